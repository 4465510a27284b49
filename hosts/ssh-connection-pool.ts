import { createHash } from 'node:crypto';
import { DvxError } from '../errors/index.js';
import type { HostSpec } from './host-connection.js';
import { SshHostConnection, type SshConnectionOptions, type SshConnectionStats } from './ssh-host-connection.js';

/** Options of an {@link SshConnectionPool}: the settings every pooled connection gets. */
export type SshConnectionPoolOptions = SshConnectionOptions;

/** A digest of everything that identifies how to reach a host, so that a changed spec gets a new connection. No secret is kept. */
function specDigest(spec: HostSpec): string {
  const { address, credentials, pinnedHostKey } = spec;
  return createHash('sha256')
    .update(
      JSON.stringify([
        address.host,
        address.port,
        address.user,
        address.name,
        credentials.privateKey ?? null,
        credentials.passphrase ?? null,
        credentials.password ?? null,
        pinnedHostKey ?? null,
      ]),
    )
    .digest('hex');
}

/**
 * One pooled SSH connection per host (keyed by `spec.id`), shared by every command to that host. A spec whose
 * address, credentials or pinned key changed replaces the old connection (which is closed).
 */
export class SshConnectionPool {
  readonly #options: SshConnectionPoolOptions;
  readonly #entries = new Map<string, { digest: string; connection: SshHostConnection }>();
  #retiredConnections = 0;
  #closed = false;

  constructor(options: SshConnectionPoolOptions = {}) {
    this.#options = options;
  }

  /** The connection of `spec.id`; created on first use, connecting lazily on its first command. */
  get(spec: HostSpec): SshHostConnection {
    if (this.#closed) throw new DvxError({ code: 'INTERNAL', message: 'The SSH connection pool is closed.' });
    const digest = specDigest(spec);
    const entry = this.#entries.get(spec.id);
    if (entry && entry.digest === digest) return entry.connection;
    if (entry) {
      this.#retiredConnections += entry.connection.stats.connectionsMade;
      void entry.connection.dispose();
    }
    const connection = new SshHostConnection(spec, this.#options);
    this.#entries.set(spec.id, { digest, connection });
    return connection;
  }

  /** SSH connections opened by this pool so far, over all hosts (each reconnect counts). */
  get connectionsMade(): number {
    let total = this.#retiredConnections;
    for (const { connection } of this.#entries.values()) total += connection.stats.connectionsMade;
    return total;
  }

  /** Counters per host id. */
  stats(): Record<string, SshConnectionStats> {
    return Object.fromEntries([...this.#entries].map(([id, { connection }]) => [id, connection.stats]));
  }

  /** Closes the connection of `id` (if any) and forgets it. */
  async evict(id: string): Promise<void> {
    const entry = this.#entries.get(id);
    if (!entry) return;
    this.#entries.delete(id);
    this.#retiredConnections += entry.connection.stats.connectionsMade;
    await entry.connection.dispose();
  }

  /** Closes every connection; later `get` calls throw. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#entries.keys()].map((id) => this.evict(id)));
  }
}
