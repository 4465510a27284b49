import { describe, expect, it } from 'vitest';
import { defineLifecycle, type StepSpec } from '../../machines/index.js';
import { drive } from './drive.js';

interface Run {
  runId: string;
}

const plain = (id: string, extra: Partial<StepSpec<Run>> = {}): StepSpec<Run> => ({
  id,
  src: 'test.step',
  input: () => ({}),
  ...extra,
});
const lifecycle =
  (steps: StepSpec<Run>[], onFailure: StepSpec<Run>[] = []) =>
  () =>
    defineLifecycle<Run>({ kind: 'names', version: 1, description: 'names', steps, onFailure });

describe('defineLifecycle refuses step ids that collide with the states it generates', () => {
  it.each([
    [
      'a final state',
      [plain('succeeded')],
      [],
      /state "succeeded" of step succeeded collides with .* the machine itself/,
    ],
    ['the state the failure path ends in', [plain('a')], [plain('ending')], /state "ending" of step ending collides/],
    [
      "a conditional step's guard state",
      [plain('a', { when: () => true }), plain('aCheck')],
      [],
      /state "aCheck" of step aCheck collides with the state of that name of step a/,
    ],
    [
      "an undo step's state",
      [plain('b', { undo: { id: 'b2', src: 'test.undo', input: () => ({}) } }), plain('undoB2')],
      [],
      /state "undoB2" of undo step b2 collides with the state of that name of step undoB2/,
    ],
    [
      "an undo step's guard state",
      [plain('b', { undo: { id: 'x', src: 'test.undo', input: () => ({}) } }), plain('undoXCheck')],
      [],
      /state "undoXCheck" of undo step x collides .* step undoXCheck/,
    ],
    [
      'an onFailure step and an undo',
      [plain('c', { undo: { id: 'c1', src: 'test.undo', input: () => ({}) } })],
      [plain('undoC1')],
      /state "undoC1" of undo step c1 collides .* step undoC1/,
    ],
  ])('a step named after %s', (_what, steps, onFailure, message) => {
    expect(lifecycle(steps, onFailure)).toThrow(message);
  });

  it('still refuses ids used twice and ids that are not letters and digits', () => {
    expect(lifecycle([plain('a'), plain('a')])).toThrow(/step id "a" is used twice/);
    expect(lifecycle([plain('a', { undo: { id: 'a', src: 'test.undo', input: () => ({}) } })])).toThrow(
      /step id "a" is used twice/,
    );
    expect(lifecycle([plain('a-b')])).toThrow(/must be letters and digits/);
  });

  it('accepts names that only resemble generated ones, and runs them', () => {
    const make = lifecycle(
      [
        plain('check', { when: () => true }),
        plain('undo'),
        plain('b', { undo: { id: 'unB', src: 'test.undo', input: () => ({}) } }),
        plain('endingSoon'),
      ],
      [plain('failed2')],
    );
    const { machine } = make();
    expect(drive(machine, { runId: 'r1' }).ids).toEqual(['check', 'undo', 'b', 'endingSoon']);
    expect(
      drive(machine, { runId: 'r1' }, (id) =>
        id === 'endingSoon' ? { error: { code: 'X', message: 'no' } } : { output: null },
      ).ids,
    ).toEqual(['check', 'undo', 'b', 'endingSoon', 'unB', 'failed2']);
  });
});
