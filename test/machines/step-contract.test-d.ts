/*
 * The step contract, checked by the compiler (`tsc --noEmit` covers test/): each `@ts-expect-error` below must meet
 * a compile error, or tsc fails on the unused directive. Nothing here runs.
 */
import { defineLifecycle, typedSteps, type DvxSteps, type LifecycleContext, type MountSpecification, type VdbStatus } from '../../machines/index.js';
import { output, step } from '../../machines/lifecycle/dvx-steps.js';
import type { DvxStepHandlers, HandlersOf, StepHandlers } from '../../workers/step-handler.js';

interface VdbRun {
  runId: string;
  vdbId: string;
}

const mountSpec = step({ id: 'mountSpec', src: 'plugin.virtual.mountSpecification', input: (c: LifecycleContext<VdbRun>) => ({ vdbId: c.input.vdbId }) });
const status = step({ id: 'status', src: 'plugin.virtual.status', input: (c: LifecycleContext<VdbRun>) => ({ vdbId: c.input.vdbId }) });

export const contract = defineLifecycle<VdbRun, DvxSteps>({
  kind: 'contract',
  version: 1,
  description: 'steps that break the contract, one per line',
  steps: [
    mountSpec,
    step({ id: 'attach', src: 'mount.attachVdb', input: (c) => ({ vdbId: c.input.vdbId, datasetId: null, mountSpecification: output(mountSpec, c) }) }),
    // @ts-expect-error a field the step does not take (issue 11: provision passed mountSpecification to model.activateVdb)
    step({ id: 'activate', src: 'model.activateVdb', input: (c) => ({ vdbId: c.input.vdbId, datasetId: 'd', snapshotId: 's', sourceConfig: null, runId: c.input.runId, mountSpecification: output(mountSpec, c) }) }),
    // @ts-expect-error a field the step needs is missing (running)
    step({ id: 'markRunning', src: 'model.setVdbRunning', input: (c) => ({ vdbId: c.input.vdbId }) }),
    // @ts-expect-error a field of the wrong type
    step({ id: 'markStopped', src: 'model.setVdbRunning', input: (c) => ({ vdbId: c.input.vdbId, running: 'no' }) }),
    // @ts-expect-error a field the run's input does not have
    step({ id: 'stop', src: 'plugin.virtual.stop', input: (c) => ({ vdbId: c.input.dsourceId }) }),
    // @ts-expect-error a step the catalogue does not have
    step({ id: 'nothing', src: 'plugin.virtual.nothing', input: (c) => ({ vdbId: c.input.vdbId }) }),
    // @ts-expect-error an undo that passes a field its step does not take
    step({ id: 'clone', src: 'storage.clone', input: () => ({ snapshotId: 's', datasetId: 'd' }), undo: { id: 'destroyClone', src: 'storage.destroyDataset', input: () => ({ datasetId: 'd', snapshotId: 's' }) } }),
    // @ts-expect-error a step written as a plain object, not with step() (a field it does not take would go unchecked)
    { id: 'plain', src: 'plugin.virtual.stop', input: (c: LifecycleContext<VdbRun>) => ({ vdbId: c.input.vdbId }) },
    // @ts-expect-error an earlier step's output where it does not fit (a mount specification is not a source config)
    step({ id: 'enable', src: 'model.setVdbEnabled', input: (c) => ({ vdbId: c.input.vdbId, enabled: true, sourceConfig: output(mountSpec, c) }) }),
  ],
});

// Outputs read with output() have the type the catalogue gives the step.
export const outputs = (c: LifecycleContext<VdbRun>) => {
  const specification: MountSpecification | null = output(mountSpec, c);
  const running: VdbStatus | null = output(status, c);
  // @ts-expect-error a status is not a number
  const wrong: number | null = output(status, c);
  return { specification, running, wrong };
};

// Handlers are typed against the catalogue.
export const rightHandler: DvxStepHandlers['storage.clone'] = async (input) => ({ datasetId: input.datasetId });
// @ts-expect-error a handler that wants a field the step's input does not have
export const wantsMore: DvxStepHandlers['storage.clone'] = async (input: { snapshotId: string; datasetId: string; vdbId: string }) => ({ datasetId: input.datasetId });
// @ts-expect-error a handler that returns something else than the step's output
export const returnsOther: DvxStepHandlers['storage.clone'] = async (input) => ({ dataset: input.datasetId });
// @ts-expect-error a set of handlers that misses steps of the catalogue (createStepHandlers returns DvxStepHandlers)
export const partial: DvxStepHandlers = { 'storage.clone': rightHandler };

// Typed handlers are what the worker takes, without a cast.
export const forWorker = (handlers: DvxStepHandlers): StepHandlers => handlers;

// Another catalogue (tests, benches) works the same way, and its machines cannot name dvx's steps.
type PingSteps = { 'test.ping': { input: { to: string }; output: { pong: boolean } } };
const ping = typedSteps<PingSteps>();
export const pingLifecycle = defineLifecycle<{ runId: string; to: string }, PingSteps>({
  kind: 'ping',
  version: 1,
  description: 'ping',
  steps: [
    ping.step({ id: 'ping', src: 'test.ping', input: (c) => ({ to: c.input.to }) }),
    // @ts-expect-error a dvx step in a lifecycle of another catalogue
    ping.step({ id: 'clone', src: 'storage.clone', input: () => ({ snapshotId: 's', datasetId: 'd' }) }),
  ],
});
export const pingHandlers: HandlersOf<PingSteps> = { 'test.ping': async (input) => ({ pong: input.to.length > 0 }) };
