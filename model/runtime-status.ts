/** What the health monitor last saw of an environment, dSource or VDB. */
export interface RuntimeStatus {
  state: 'ACTIVE' | 'INACTIVE' | 'UNREACHABLE';
  /** Why, when not ACTIVE. */
  reason: string | null;
  /** When the object entered this state. */
  since: string;
  /** The check that saw this reading: the monitor writes a record only when what it saw changes. */
  checkedAt: string;
  /** The last run the monitor started to bring the object back, if any. */
  recoveryRunId?: string | null;
}
