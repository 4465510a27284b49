// PostgreSQL (staged): discovery of installations and running clusters, ingestion through a streaming-replication
// standby on the staging host, VDBs as promoted clones of the standby's files. See ../README.md.
import { definePlugin } from 'dvx/sdk';
import type { Definitions } from './definitions.js';
import { discovery } from './discovery.js';
import { linked } from './staging.js';
import { virtual } from './virtual.js';

export default definePlugin<Definitions>({ discovery, linked, virtual });
