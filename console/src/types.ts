// What the console reads from the API: the engine's own types, imported as types only (nothing of the engine is
// bundled), so a change of a record's shape is a compile error here.
export type { DsourceRecord as Dsource } from '../../model/dsource.js';
export type { VdbRecord as Vdb } from '../../model/vdb.js';
export type { SnapshotRecord as Snapshot } from '../../model/snapshot.js';
export type { EnvironmentRecord as Environment } from '../../model/environment.js';
export type { RunDetail, StepExecution, StepAttempt } from '../../model/run-record.js';
export type { Role } from '../../model/token-store.js';
export type { RunSummary } from '../../services/runs.js';
export type { HealthReport, DependencyHealth } from '../../api/health.js';
export type { SerializedError } from '../../errors/dvx-error.js';
export type { RepositoryRecord as Repository } from '../../model/repository.js';
export type { SourceConfigRecord as SourceConfig } from '../../model/source-config.js';
export type { BookmarkRecord as Bookmark } from '../../model/bookmark.js';
