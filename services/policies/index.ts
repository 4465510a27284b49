// Policies: records and their CRUD, validation, job schedules, cross-policy warnings, firing.
export {
  applyPolicy,
  createPolicy,
  deletePolicy,
  listPolicies,
  setPolicyPaused,
  showPolicy,
  unapplyPolicy,
  updatePolicy,
  type CreatePolicyRequest,
  type UpdatePolicyRequest,
} from './policy-crud.js';
export { firePolicy } from './fire-policy.js';
export { presentPolicy, reconcilePolicySchedulers } from './policy-schedules.js';
export { formatInterval, policyWarnings } from './policy-warnings.js';
export { validateRetention, validateSchedule } from './validate-policy.js';
