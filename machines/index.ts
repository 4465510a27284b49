import type { Lifecycle } from './lifecycle/define-lifecycle.js';
import { discoverLifecycle } from './discover.js';
import { dsourceDeleteLifecycle } from './dsource-delete.js';
import { dsourceDisableLifecycle } from './dsource-disable.js';
import { dsourceEnableLifecycle } from './dsource-enable.js';
import { linkLifecycle } from './link.js';
import { provisionLifecycle } from './provision.js';
import { syncLifecycle } from './sync.js';
import { vdbDeleteLifecycle } from './vdb-delete.js';
import { vdbDisableLifecycle } from './vdb-disable.js';
import { vdbEnableLifecycle } from './vdb-enable.js';
import { vdbRefreshLifecycle } from './vdb-refresh.js';
import { vdbRewindLifecycle } from './vdb-rewind.js';
import { vdbSnapshotLifecycle } from './vdb-snapshot.js';
import { vdbStartLifecycle } from './vdb-start.js';
import { vdbStopLifecycle } from './vdb-stop.js';

export {
  defineLifecycle,
  outcomeOf,
  type CompiledSpec,
  type CompiledStep,
  type Lifecycle,
  type LifecycleStep,
} from './lifecycle/define-lifecycle.js';
export { activeInvokes, type ActiveInvoke } from './lifecycle/active-invokes.js';
export { pureTransition } from './lifecycle/pure-transition.js';
export { typedSteps, type TypedSteps } from './lifecycle/typed-steps.js';
export { PLUGIN_TYPES, type PluginType } from './lifecycle/plugin-type.js';
export { HOOK_EVENTS, type HookEvent } from './lifecycle/hook-steps.js';
export type * from './lifecycle/step-catalogue.js';
export type {
  AnySteps,
  Catalogue,
  LifecycleContext,
  LifecycleOutcome,
  LifecycleSpec,
  StepDefinition,
  StepError,
  StepSpec,
} from './lifecycle/types.js';

/** Every lifecycle dvx runs, by kind; each names its steps from the DvxSteps catalogue (lifecycle/step-catalogue.ts). */
export const LIFECYCLES: readonly Lifecycle<never>[] = [
  discoverLifecycle,
  linkLifecycle,
  syncLifecycle,
  dsourceEnableLifecycle,
  dsourceDisableLifecycle,
  dsourceDeleteLifecycle,
  provisionLifecycle,
  vdbStartLifecycle,
  vdbStopLifecycle,
  vdbEnableLifecycle,
  vdbDisableLifecycle,
  vdbSnapshotLifecycle,
  vdbRewindLifecycle,
  vdbRefreshLifecycle,
  vdbDeleteLifecycle,
];
