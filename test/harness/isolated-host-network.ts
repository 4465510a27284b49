import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { isAlive } from './ssh-processes.js';

const execFileAsync = promisify(execFile);

/**
 * Prefix of everything an isolated test host creates outside its own namespaces: network namespaces
 * (`dvxiso-<run>-<n>`), root-side veths (`dvxi<run><n>`), temp dirs (`dvx-isohosts-<run>-*`) and the subnet claims in
 * {@link CLAIMS_DIR}. `<run>` is {@link RUN_ID}, so whatever a killed test process left is found by name.
 */
export const ISOLATED_PREFIX = 'dvxiso';

/** This process's run id: 6 hex digits in the name of everything it creates. */
export const RUN_ID = randomBytes(3).toString('hex');

/** Claims of the /30 subnets of 10.213.0.0/16, one file each, holding `<run> <pid>` of the process using it. */
export const CLAIMS_DIR = '/run/dvx-isolated-hosts';

const SUBNETS = 1 << 14;
const SUBNET = '10.213.0.0/16';

/** A veth pair between the root network namespace and a named one, with a /30 of 10.213.0.0/16. */
export interface HostLink {
  /** `ip netns` name of the host's network namespace. */
  readonly netns: string;
  /** The veth in the root namespace. */
  readonly rootInterface: string;
  /** The root namespace's address on the link (`.1` of the /30): where the host reaches the engine. */
  readonly rootAddress: string;
  /** The host's address (`.2`), on its `eth0`. */
  readonly hostAddress: string;
  /** Takes the root side of the link down (the host becomes unreachable) or up again. */
  setUp(up: boolean): Promise<void>;
  /** Deletes the namespace (which destroys the veth pair) and the subnet claim. */
  remove(): Promise<void>;
}

const live = new Map<string, { netns: string; claim: string }>();
let hooked = false;

function removeSync(netns: string, claim: string): void {
  try {
    execFileSync('ip', ['netns', 'delete', netns], { stdio: 'ignore' });
  } catch {
    // Already gone.
  }
  rmSync(claim, { force: true });
}

function installExitHook(): void {
  if (hooked) return;
  hooked = true;
  // A namespace lives on while a process uses it: the hosts' own exit hook kills theirs.
  process.once('exit', () => {
    for (const { netns, claim } of live.values()) removeSync(netns, claim);
  });
}

function claimPath(index: number): string {
  return join(CLAIMS_DIR, `subnet-${index}`);
}

function subnetAddresses(index: number): { root: string; host: string } {
  const third = index >> 6;
  const fourth = (index & 63) * 4;
  return { root: `10.213.${third}.${fourth + 1}`, host: `10.213.${third}.${fourth + 2}` };
}

/**
 * Removes what runs whose process is gone left behind: their network namespaces (with their veths), subnet claims and
 * temp dirs. Processes of such a run died with it (each host's namespace init has the test process as its parent-death
 * signal), so only names are left to find.
 */
export function sweepDeadRuns(): void {
  mkdirSync(CLAIMS_DIR, { recursive: true, mode: 0o755 });
  const dead = new Set<string>();
  for (const entry of readdirSync(CLAIMS_DIR)) {
    const path = join(CLAIMS_DIR, entry);
    let content = '';
    try {
      content = readFileSync(path, 'utf8');
    } catch {
      continue;
    }
    const [run, pid] = content.trim().split(' ');
    if (run === undefined || (pid !== undefined && isAlive(Number(pid)))) continue;
    dead.add(run);
    rmSync(path, { force: true });
  }
  if (dead.size === 0) return;
  const namespaces = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter(Boolean);
  for (const run of dead) {
    for (const netns of namespaces.filter((name) => name.startsWith(`${ISOLATED_PREFIX}-${run}-`))) {
      try {
        execFileSync('ip', ['netns', 'delete', netns], { stdio: 'ignore' });
      } catch {
        // Gone meanwhile.
      }
    }
    for (const entry of readdirSync(tmpdir()).filter((name) => name.startsWith(`dvx-isohosts-${run}-`)))
      rmSync(join(tmpdir(), entry), { recursive: true, force: true });
  }
}

/** Claims a free /30 (a file created exclusively) and returns its index. */
function claimSubnet(): number {
  mkdirSync(CLAIMS_DIR, { recursive: true, mode: 0o755 });
  const start = randomBytes(2).readUInt16BE() % SUBNETS;
  for (let offset = 0; offset < SUBNETS; offset += 1) {
    const index = (start + offset) % SUBNETS;
    try {
      writeFileSync(claimPath(index), `${RUN_ID} ${process.pid}\n`, { flag: 'wx' });
      return index;
    } catch {
      // Taken: try the next one.
    }
  }
  throw new Error(`no free /30 left in 10.213.0.0/16 (claims in ${CLAIMS_DIR})`);
}

let counter = 0;

/**
 * Creates a network namespace with a veth pair to the root namespace on a fresh /30; the host side is its `eth0`.
 * `routed`: the host reaches the other routed hosts (10.213.0.0/16), as machines of one network do.
 */
export async function createHostLink(label: string, options: { routed?: boolean } = {}): Promise<HostLink> {
  installExitHook();
  sweepDeadRuns();
  const index = claimSubnet();
  const claim = claimPath(index);
  const n = (counter += 1).toString(36);
  const netns = `${ISOLATED_PREFIX}-${RUN_ID}-${n}`;
  const rootInterface = `dvxi${RUN_ID}${n}`;
  const { root, host } = subnetAddresses(index);
  live.set(netns, { netns, claim });
  const ip = (...args: string[]) => execFileAsync('ip', args);
  try {
    await ip('netns', 'add', netns);
    await ip('link', 'add', rootInterface, 'type', 'veth', 'peer', 'name', `${rootInterface}h`, 'netns', netns);
    await ip(
      'link',
      'set',
      rootInterface,
      'alias',
      `dvx isolated test host ${label}, run ${RUN_ID}, pid ${process.pid}`,
    );
    await ip('addr', 'add', `${root}/30`, 'dev', rootInterface);
    await ip('link', 'set', rootInterface, 'up');
    await ip('-n', netns, 'link', 'set', `${rootInterface}h`, 'name', 'eth0');
    await ip('-n', netns, 'addr', 'add', `${host}/30`, 'dev', 'eth0');
    await ip('-n', netns, 'link', 'set', 'eth0', 'up');
    await ip('-n', netns, 'link', 'set', 'lo', 'up');
    if (options.routed) {
      // Through the root namespace, which forwards what comes in on these veths only (ip_forward stays off).
      await ip('-n', netns, 'route', 'add', SUBNET, 'via', root);
      await writeFile(`/proc/sys/net/ipv4/conf/${rootInterface}/forwarding`, '1\n');
    }
  } catch (error) {
    removeSync(netns, claim);
    live.delete(netns);
    throw error;
  }
  return {
    netns,
    rootInterface,
    rootAddress: root,
    hostAddress: host,
    async setUp(up) {
      await ip('link', 'set', rootInterface, up ? 'up' : 'down');
    },
    async remove() {
      removeSync(netns, claim);
      live.delete(netns);
    },
  };
}
