import type { DvxStepHandlers } from '../step-handler.js';
import { discoverySteps } from './discovery-steps.js';
import { dsourceRecordSteps } from './dsource-record-steps.js';
import { hookSteps } from './hook-steps.js';
import { linkedSteps } from './linked-steps.js';
import { mountSteps } from './mount-steps.js';
import { recordFailureSteps } from './record-failure-steps.js';
import type { StepServices } from './step-services.js';
import { storageSteps } from './storage-steps.js';
import { vdbRecordSteps } from './vdb-record-steps.js';
import { virtualSteps } from './virtual-steps.js';

export type { PluginCallOptions, StepServices } from './step-services.js';
export { hostSpecOf, openCredentials } from './environment-connection.js';
export { loadPluginArtifact } from './plugin-call.js';

/** Every step handler of dvx's lifecycles, bound to the engine's services: one per step of the catalogue (DvxSteps). */
export function createStepHandlers(services: StepServices): DvxStepHandlers {
  return {
    ...discoverySteps(services),
    ...linkedSteps(services),
    ...virtualSteps(services),
    ...storageSteps(services),
    ...mountSteps(services),
    ...dsourceRecordSteps(services),
    ...vdbRecordSteps(services),
    ...recordFailureSteps(services),
    ...hookSteps(services),
  };
}
