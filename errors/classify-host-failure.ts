import type { HostErrorCode } from './host-error.js';
import { HostError } from './host-error.js';

// ssh2 reports these as plain Errors; their text is the only thing that tells them apart.

/** ssh2: the host refused to open another session channel (sshd MaxSessions, or a connection on its way down). */
export function isChannelOpenRefused(error: unknown): boolean {
  return error instanceof Error && /^\(SSH\) Channel open failure/.test(error.message);
}

/** ssh2: the client is no longer connected, found out when opening a channel. */
export function isNotConnected(error: unknown): boolean {
  return error instanceof Error && /Not connected|No response from server/i.test(error.message);
}

/** rsync exit codes that mean success: 24 is "some source files vanished during the copy", normal for a live source. */
export const RSYNC_OK_EXIT_CODES: ReadonlySet<number> = new Set([0, 24]);

interface RsyncExit {
  code: HostErrorCode;
  /** rsync's own wording (rsync(1), EXIT VALUES). */
  meaning: string;
  action: string;
}

const CHECK_OUTPUT =
  'Read the output below: a missing source directory, permissions or a full disk are the usual causes.';
const NETWORK =
  'dvx retries this on its own; if it persists, check the network between the hosts and that both stay up.';

/** What each rsync exit code means for dvx: retryable ones (the connection broke, a timeout) and the rest. */
const RSYNC_EXITS: Record<number, RsyncExit> = {
  1: {
    code: 'HOST_COMMAND_FAILED',
    meaning: 'syntax or usage error',
    action: 'Check that the rsync on both sides is version 3 or newer.',
  },
  2: {
    code: 'HOST_COMMAND_FAILED',
    meaning: 'protocol incompatibility',
    action: 'Install the same major version of rsync (3 or newer) on both sides.',
  },
  3: {
    code: 'HOST_COMMAND_FAILED',
    meaning: 'errors selecting input/output files or directories',
    action: CHECK_OUTPUT,
  },
  4: {
    code: 'HOST_COMMAND_FAILED',
    meaning: 'requested action not supported',
    action: 'Install rsync 3 or newer on both sides.',
  },
  5: { code: 'HOST_COMMAND_FAILED', meaning: 'error starting the client-server protocol', action: CHECK_OUTPUT },
  10: { code: 'HOST_CONNECTION_LOST', meaning: 'error in socket I/O', action: NETWORK },
  11: { code: 'HOST_COMMAND_FAILED', meaning: 'error in file I/O', action: CHECK_OUTPUT },
  12: { code: 'HOST_CONNECTION_LOST', meaning: 'error in the rsync protocol data stream', action: NETWORK },
  23: { code: 'HOST_COMMAND_FAILED', meaning: 'partial transfer due to error', action: CHECK_OUTPUT },
  30: { code: 'HOST_TIMEOUT', meaning: 'timeout in data send/receive', action: NETWORK },
  35: { code: 'HOST_TIMEOUT', meaning: 'timeout waiting for a daemon connection', action: NETWORK },
};

/** A finished rsync run that did not succeed. */
export interface RsyncFailure {
  exitCode: number;
  /** What rsync (and the ssh it ran, for host-to-host copies) printed on stderr. */
  output: string;
}

/** Where the failed copy went. */
export interface RsyncCopy {
  /** Name of the source host. */
  source: string;
  /** Name of the destination ("the engine" or a host name). */
  destination: string;
  /** The copy ran rsync on the destination over OpenSSH (host to host), so ssh's own failures may show. */
  viaSsh: boolean;
}

/**
 * The typed error of a failed rsync copy, from its exit code and what it printed: rsync missing, the destination's ssh
 * refused by the source (key, authentication, network), or rsync's own exit code with its retryable flag and action.
 */
export function rsyncFailureError(failure: RsyncFailure, copy: RsyncCopy): HostError {
  const { source, destination, viaSsh } = copy;
  const output = failure.output.trim();
  if (failure.exitCode === 127 || /rsync: (command )?not found/.test(output)) {
    return new HostError({
      code: 'HOST_CAPABILITY_MISSING',
      host: source,
      message: `rsync is not installed on ${source}, which a copy from it needs.`,
      action: `Install rsync on ${source} (for example \`apt-get install rsync\`).`,
      output,
    });
  }
  // What the destination's ssh client printed while connecting to the source.
  if (viaSsh && /Host key verification failed/.test(output)) {
    return new HostError({
      code: 'HOST_KEY_MISMATCH',
      host: source,
      message: `${destination} was shown a different host key for ${source} than the one pinned for it; the copy was refused.`,
      action: `Check that ${destination} reaches ${source} at the same address as the engine does, and that nothing intercepts the connection.`,
      output,
    });
  }
  if (viaSsh && /Permission denied \((publickey|password|keyboard-interactive)/.test(output)) {
    return new HostError({
      code: 'HOST_AUTH_FAILED',
      host: source,
      message: `${source} refused the key of its environment when ${destination} connected to it for the copy.`,
      action: `Check that ${source} accepts its environment's key from ${destination} (AuthorizedKeysFile, "from=" restrictions).`,
      output,
    });
  }
  if (
    viaSsh &&
    /ssh: .*(Connection refused|Connection timed out|No route to host|Could not resolve hostname|Network is unreachable)/.test(
      output,
    )
  ) {
    return new HostError({
      code: 'HOST_UNREACHABLE',
      host: source,
      message: `${destination} could not connect to ${source} for the copy.`,
      action: `Check that ${destination} can reach ${source}'s SSH port.`,
      output,
    });
  }
  const known = RSYNC_EXITS[failure.exitCode];
  return new HostError({
    code: known?.code ?? 'HOST_COMMAND_FAILED',
    host: source,
    message: `Copying from ${source} to ${destination} failed: rsync exited with code ${failure.exitCode}${known ? ` (${known.meaning})` : ''}.`,
    action: known?.action ?? CHECK_OUTPUT,
    output,
    details: { exitCode: failure.exitCode },
  });
}
