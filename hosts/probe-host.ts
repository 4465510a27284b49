import { HostError } from '../errors/index.js';
import type { HostConnection } from './host-connection.js';
import { runBash } from './run-bash.js';

/** What probing a host found; the facts an environment records when it is added. */
export interface HostFacts {
  /** Distribution name (`PRETTY_NAME` of /etc/os-release), else the kernel name. */
  os: string;
  /** `uname -r`. */
  kernel: string;
  user: string;
  uid: number;
  home: string;
  bashVersion: string;
  /** `rsync --version`'s version, or null when rsync is not installed. */
  rsyncVersion: string | null;
  expectAvailable: boolean;
  /** The user can mount: root, or passwordless sudo. */
  canMount: boolean;
  /** A suggested directory for per-object scratch files (not created). */
  scratchPath: string;
}

/** Options of {@link probeHost}. */
export interface ProbeHostOptions {
  /** @defaultValue 30 000 ms */
  timeoutMs?: number;
  signal?: AbortSignal;
}

const PROBE = String.raw`
emit() { printf 'dvx-probe:%s=%s\n' "$1" "$2"; }
os=$( (. /etc/os-release 2>/dev/null && printf %s "$PRETTY_NAME") )
[ -n "$os" ] || os=$(uname -s)
emit os "$os"
emit kernel "$(uname -r)"
emit user "$(id -un)"
emit uid "$(id -u)"
emit home "$HOME"
emit bash "$BASH_VERSION"
if command -v rsync >/dev/null 2>&1; then emit rsync "$(rsync --version 2>/dev/null | sed -n '1s/^rsync  *version  *\([^ ]*\).*/\1/p')"; fi
if command -v expect >/dev/null 2>&1; then emit expect yes; else emit expect no; fi
if [ "$(id -u)" = 0 ] || sudo -n true >/dev/null 2>&1; then emit mount yes; else emit mount no; fi
if [ -n "$HOME" ] && [ -d "$HOME" ] && [ -w "$HOME" ]; then emit scratch "$HOME/.dvx/scratch"; else emit scratch "/var/tmp/dvx-$(id -un)"; fi
`;

/** Finds out what a host is and what it can do, with one command. */
export async function probeHost(connection: HostConnection, options: ProbeHostOptions = {}): Promise<HostFacts> {
  const result = await runBash(connection, PROBE, {
    check: true,
    timeoutMs: options.timeoutMs ?? 30_000,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const facts = new Map<string, string>();
  for (const line of result.stdout.split('\n')) {
    const match = /^dvx-probe:([a-z]+)=(.*)$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) facts.set(match[1], match[2]);
  }
  const uid = Number(facts.get('uid'));
  const user = facts.get('user');
  if (user === undefined || !Number.isInteger(uid)) {
    throw new HostError({
      code: 'HOST_COMMAND_FAILED',
      host: connection.address.name,
      message: `Probing ${connection.address.name} returned unreadable output.`,
      action:
        "Check that the host has /bin/bash and that the login user's shell start-up files print nothing on stdout.",
      output: `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`,
    });
  }
  return {
    os: facts.get('os') ?? 'unknown',
    kernel: facts.get('kernel') ?? 'unknown',
    user,
    uid,
    home: facts.get('home') ?? '',
    bashVersion: facts.get('bash') ?? '',
    rsyncVersion: facts.get('rsync') || null,
    expectAvailable: facts.get('expect') === 'yes',
    canMount: facts.get('mount') === 'yes',
    scratchPath: facts.get('scratch') ?? '',
  };
}
