import { describe, expect, it } from 'vitest';
import { getShortestPaths } from 'xstate/graph';
import {
  fromPromise,
  initialTransition,
  setup,
  transition,
  type AnyEventObject,
  type AnyMachineSnapshot,
} from 'xstate';
import { activeInvokes, LIFECYCLES, pureTransition, type Lifecycle } from '../../machines/index.js';
import { drive, persist, reload } from './drive.js';
import { must } from '../harness/must.js';

const byKind = new Map(LIFECYCLES.map((lifecycle) => [lifecycle.kind, lifecycle]));
const lifecycle = (kind: string) => must(byKind.get(kind), `the ${kind} lifecycle`);

const staged = { pluginType: 'STAGED' as const };
const direct = { pluginType: 'DIRECT' as const };
const INPUTS: Record<string, Record<string, unknown>> = {
  discover: { runId: 'r1', environmentId: 'env1', pluginIds: ['p1'] },
  link: { runId: 'r1', dsourceId: 'ds1', ...staged, snapshotParameters: { resync: true } },
  sync: { runId: 'r1', dsourceId: 'ds1', ...staged, snapshotParameters: null },
  'dsource-enable': { runId: 'r1', dsourceId: 'ds1', ...staged },
  'dsource-disable': { runId: 'r1', dsourceId: 'ds1', ...staged },
  'dsource-delete': { runId: 'r1', dsourceId: 'ds1', ...staged },
  provision: { runId: 'r1', vdbId: 'v1', snapshotId: 's1' },
  'vdb-start': { runId: 'r1', vdbId: 'v1' },
  'vdb-stop': { runId: 'r1', vdbId: 'v1' },
  'vdb-enable': { runId: 'r1', vdbId: 'v1' },
  'vdb-disable': { runId: 'r1', vdbId: 'v1' },
  'vdb-snapshot': { runId: 'r1', vdbId: 'v1', datasetId: 'tf-r0' },
  'vdb-rewind': { runId: 'r1', vdbId: 'v1', snapshotId: 's1', previousDatasetId: 'tf-r0' },
  'vdb-refresh': { runId: 'r1', vdbId: 'v1', snapshotId: 's1', previousDatasetId: 'tf-r0' },
  'vdb-delete': { runId: 'r1', vdbId: 'v1' },
};

const plugin = (srcs: string[]) =>
  srcs.filter((src) => src.startsWith('plugin.')).map((src) => src.slice('plugin.'.length));

describe('lifecycles call plugin operations in the vSDK order (vsdk-reference section 2)', () => {
  it.each([
    ['discover', INPUTS.discover, ['discovery.repository', 'discovery.sourceConfig']],
    [
      'link (staged)',
      INPUTS.link,
      ['linked.mountSpecification', 'linked.startStaging', 'linked.preSnapshot', 'linked.postSnapshot'],
    ],
    ['link (direct)', { ...INPUTS.link, ...direct }, ['linked.preSnapshot', 'linked.postSnapshot']],
    ['sync (staged)', INPUTS.sync, ['linked.mountSpecification', 'linked.preSnapshot', 'linked.postSnapshot']],
    ['sync (direct)', { ...INPUTS.sync, ...direct }, ['linked.preSnapshot', 'linked.postSnapshot']],
    ['dsource-enable', INPUTS['dsource-enable'], ['linked.mountSpecification', 'linked.startStaging']],
    ['dsource-enable (direct)', { ...INPUTS['dsource-enable'], ...direct }, []],
    ['dsource-disable', INPUTS['dsource-disable'], ['linked.stopStaging']],
    ['dsource-delete', INPUTS['dsource-delete'], ['linked.stopStaging']],
    [
      'provision',
      INPUTS.provision,
      ['virtual.mountSpecification', 'virtual.configure', 'virtual.preSnapshot', 'virtual.postSnapshot'],
    ],
    ['vdb-start', INPUTS['vdb-start'], ['virtual.mountSpecification', 'virtual.start']],
    ['vdb-stop', INPUTS['vdb-stop'], ['virtual.stop']],
    ['vdb-disable', INPUTS['vdb-disable'], ['virtual.unconfigure']],
    ['vdb-snapshot', INPUTS['vdb-snapshot'], ['virtual.preSnapshot', 'virtual.postSnapshot']],
    [
      'vdb-rewind',
      INPUTS['vdb-rewind'],
      [
        'virtual.unconfigure',
        'virtual.mountSpecification',
        'virtual.reconfigure',
        'virtual.preSnapshot',
        'virtual.postSnapshot',
      ],
    ],
    [
      'vdb-refresh',
      INPUTS['vdb-refresh'],
      [
        'virtual.unconfigure',
        'virtual.mountSpecification',
        'virtual.configure',
        'virtual.preSnapshot',
        'virtual.postSnapshot',
      ],
    ],
    ['vdb-delete', INPUTS['vdb-delete'], ['virtual.unconfigure', 'virtual.cleanup']],
  ])('%s', (name, input, expected) => {
    const kind = must(name.split(' ')[0], `the kind in ${name}`);
    const result = drive(lifecycle(kind).machine, input);
    expect(result.outcome).toBe('succeeded');
    expect(plugin(result.srcs)).toEqual(expected);
  });

  it('vdb-enable does nothing more when the plugin says ACTIVE, and mounts and reconfigures when INACTIVE', () => {
    const enable = lifecycle('vdb-enable').machine;
    const active = drive(enable, INPUTS['vdb-enable'], (id) => ({ output: id === 'status' ? 'ACTIVE' : null }));
    expect(active.srcs).toEqual(['plugin.virtual.status', 'model.setVdbEnabled']);
    const inactive = drive(enable, INPUTS['vdb-enable'], (id) => ({ output: id === 'status' ? 'INACTIVE' : null }));
    expect(inactive.srcs).toEqual([
      'plugin.virtual.status',
      'plugin.virtual.mountSpecification',
      'mount.attachVdb',
      'plugin.virtual.reconfigure',
      'model.setVdbEnabled',
    ]);
  });

  it('engine steps sit where DESIGN.md puts them: provision clones then attaches before configure', () => {
    const { srcs } = drive(lifecycle('provision').machine, INPUTS.provision);
    expect(srcs.slice(0, 6)).toEqual([
      'plugin.virtual.mountSpecification',
      'storage.clone',
      'mount.attachVdb',
      'plugin.virtual.configure',
      'hook.run',
      'model.activateVdb',
    ]);
  });
});

describe('failure paths undo what the run did and leave the object in a named state', () => {
  const fail = (failing: string) => (id: string) =>
    id === failing ? { error: { code: 'PLUGIN_USER_ERROR', message: 'no port' } } : { output: { ok: true } };

  it('a provision whose configure fails destroys its clone and mount, and marks the VDB failed with the error', () => {
    const result = drive(lifecycle('provision').machine, INPUTS.provision, fail('configure'));
    expect(result.outcome).toBe('failed');
    expect(result.ids).toEqual(['mountSpec', 'clone', 'attach', 'configure', 'detach', 'destroyClone', 'markFailed']);
    expect(result.context.error).toMatchObject({ code: 'PLUGIN_USER_ERROR', message: 'no port' });
    expect(result.context.failedStep).toBe('configure');
  });

  it('a provision failing after configure also unconfigures, in reverse order', () => {
    const result = drive(lifecycle('provision').machine, INPUTS.provision, fail('postSnapshot'));
    expect(result.ids.slice(result.ids.indexOf('postSnapshot'))).toEqual([
      'postSnapshot',
      'destroySnapshot',
      'unconfigure',
      'detach',
      'destroyClone',
      'markFailed',
    ]);
  });

  it('a rewind failing on the new timeflow puts the VDB back on the old one', () => {
    const result = drive(lifecycle('vdb-rewind').machine, INPUTS['vdb-rewind'], fail('reconfigure'));
    expect(result.outcome).toBe('failed');
    expect(result.ids.slice(result.ids.indexOf('reconfigure'))).toEqual([
      'reconfigure',
      'detachClone',
      'destroyClone',
      'reattachPrevious',
      'restoreConfiguration',
      'recordFailure',
    ]);
  });

  it('an undo step that fails is recorded and the chain goes on', () => {
    const result = drive(lifecycle('provision').machine, INPUTS.provision, (id) =>
      id === 'configure' || id === 'detach'
        ? { error: { code: 'HOST_UNREACHABLE', message: `${id} failed` } }
        : { output: null },
    );
    expect(result.outcome).toBe('failed');
    expect(result.ids.slice(-2)).toEqual(['destroyClone', 'markFailed']);
    expect(result.context.undoFailures).toEqual([
      { step: 'detach', error: { code: 'HOST_UNREACHABLE', message: 'detach failed' } },
    ]);
  });

  it('cancelling takes the failure path at the next step boundary and ends cancelled', () => {
    const result = drive(
      lifecycle('provision').machine,
      INPUTS.provision,
      () => ({ output: null }),
      (id) => (id === 'attach' ? { type: 'CANCEL' } : undefined),
    );
    expect(result.outcome).toBe('cancelled');
    expect(result.ids).toEqual(['mountSpec', 'clone', 'attach', 'detach', 'destroyClone', 'markFailed']);
    expect(result.context.error).toMatchObject({ code: 'RUN_CANCELLED' });
  });
});

function eventsFor(lifecycleOf: Lifecycle<never>) {
  return (snapshot: AnyMachineSnapshot): AnyEventObject[] => {
    if (snapshot.status === 'done') return [];
    const events: AnyEventObject[] = [{ type: 'CANCEL' }];
    for (const invoke of activeInvokes(lifecycleOf.machine, persist(snapshot).value)) {
      events.push({ type: `xstate.done.actor.${invoke.id}`, output: invoke.id === 'status' ? 'ACTIVE' : null });
      if (invoke.id === 'status') events.push({ type: `xstate.done.actor.${invoke.id}`, output: 'INACTIVE' });
      events.push({ type: `xstate.error.actor.${invoke.id}`, error: { code: 'HOST_UNREACHABLE', message: 'down' } });
    }
    return events;
  };
}

function allStateKeys(lifecycleOf: Lifecycle<never>): string[] {
  return Object.keys((lifecycleOf.machine.root as unknown as { states: Record<string, unknown> }).states);
}

describe('path coverage (xstate/graph): every state of every lifecycle is reachable, and every path ends', () => {
  it.each(LIFECYCLES.map((l) => [l.kind, l] as const))('%s', (kind, lifecycleOf) => {
    const input = must(INPUTS[kind], `the input of ${kind}`);
    const inputs = 'pluginType' in input ? [input, { ...input, ...direct }] : [input];
    const reached = new Set<string>();
    const outcomes = new Set<string>();
    for (const input of inputs) {
      const paths = getShortestPaths(lifecycleOf.machine, {
        input,
        events: eventsFor(lifecycleOf),
        serializeState: (snapshot) => JSON.stringify(persist(snapshot as AnyMachineSnapshot)),
      });
      for (const path of paths) {
        for (const step of path.steps) reached.add(String((step.state as AnyMachineSnapshot).value));
        const last = path.state as AnyMachineSnapshot;
        if (last.status === 'done') outcomes.add(String(last.value));
      }
    }
    const transient = (key: string) => key.endsWith('Check') || key === 'ending';
    const unreached = allStateKeys(lifecycleOf).filter((key) => !transient(key) && !reached.has(key));
    expect(unreached).toEqual([]);
    expect([...outcomes].sort()).toEqual(['cancelled', 'failed', 'succeeded']);
  });
});

describe('pureTransition (the driver reuses one inert actor per machine) steps exactly as XState transition does', () => {
  const spawns = (actions: readonly { type: string; params?: unknown }[]) =>
    actions
      .filter((action) => action.type === 'xstate.spawnChild')
      .map((action) => {
        const { id, src, input } = action.params as { id: string; src: string; input: unknown };
        return { id, src, input };
      });

  it.each(LIFECYCLES.map((l) => [l.kind, l] as const))('%s, along every shortest path', (kind, lifecycleOf) => {
    const machine = lifecycleOf.machine;
    const paths = getShortestPaths(machine, {
      input: must(INPUTS[kind], `the input of ${kind}`),
      events: eventsFor(lifecycleOf),
      serializeState: (snapshot) => JSON.stringify(persist(snapshot as AnyMachineSnapshot)),
    });
    const seen = new Set<string>();
    let compared = 0;
    for (const path of paths) {
      for (const step of path.steps) {
        const state = step.state as AnyMachineSnapshot;
        if (state.status === 'done') continue;
        const persisted = persist(state);
        const event = step.event as AnyEventObject;
        const key = `${JSON.stringify(persisted)} ${JSON.stringify(event)}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const resolved = reload(machine, persisted);
        const [expected, expectedActions] = transition(machine, resolved, event);
        const [actual, actualActions] = pureTransition(machine, resolved, event);
        expect({ ...persist(actual), status: actual.status, spawned: spawns(actualActions) }).toEqual({
          ...persist(expected),
          status: expected.status,
          spawned: spawns(expectedActions),
        });
        // The driver transitions its cached in-memory snapshot when it wrote the run's last state itself.
        const [fromMemory, fromMemoryActions] = pureTransition(machine, state, event);
        expect({ ...persist(fromMemory), spawned: spawns(fromMemoryActions) }).toEqual({
          ...persist(expected),
          spawned: spawns(expectedActions),
        });
        compared += 1;
      }
    }
    expect(compared).toBeGreaterThan(0);
  });
});

describe('pureTransition on a machine whose invokes carry a system id', () => {
  it('steps as XState does every time (such children register with the actor system, so it is not shared)', () => {
    const machine = setup({ actors: { work: fromPromise(async () => null) } }).createMachine({
      initial: 'idle',
      states: {
        idle: { on: { GO: 'busy' } },
        busy: { invoke: { id: 'work', src: 'work', systemId: 'worker' }, on: { BACK: 'idle' } },
      },
    });
    const [idle] = initialTransition(machine);
    for (let i = 0; i < 3; i += 1) {
      const [busy, actions] = pureTransition(machine, idle, { type: 'GO' });
      expect(busy.value).toBe('busy');
      expect(actions.filter((action) => action.type === 'xstate.spawnChild')).toHaveLength(1);
    }
  });
});
