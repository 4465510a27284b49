import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { killPids } from './ssh-processes.js';
import { must } from './must.js';

const execFileAsync = promisify(execFile);

/** A throwaway unix user with a known password, for password-authentication tests. */
export interface TempUser {
  name: string;
  password: string;
  uid: number;
  gid: number;
  /** Its home directory (created, owned by the user). */
  home: string;
  /** Kills the user's processes (by pid) and deletes the user and its home. */
  remove(): Promise<void>;
}

const created = new Set<string>();
let exitHookInstalled = false;

function pidsOfUid(uid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const match = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${entry}/status`, 'utf8'));
      if (match && Number(match[1]) === uid) pids.push(Number(entry));
    } catch {
      // Gone.
    }
  }
  return pids;
}

function removeSync(name: string, uid: number): void {
  killPids(pidsOfUid(uid));
  try {
    execFileSync('userdel', ['-r', '-f', name], { stdio: 'ignore' });
  } catch {
    // Already gone.
  }
}

/** Options of {@link createTempUser}. */
export interface TempUserOptions {
  /** The user's login shell, which sshd runs every command through (tcsh and fish are installed by `npm run setup`). @defaultValue '/bin/bash' */
  shell?: string;
}

/** Creates a user with a random name and password (needs root). Remove it in teardown; an exiting process does too. */
export async function createTempUser(options: TempUserOptions = {}): Promise<TempUser> {
  const name = `dvxt${randomBytes(4).toString('hex')}`;
  const password = `pw-${randomBytes(12).toString('base64url')}`;
  await execFileAsync('useradd', ['--create-home', '--shell', options.shell ?? '/bin/bash', name]);
  created.add(name);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const user of created) {
        try {
          removeSync(user, Number(execFileSync('id', ['-u', user]).toString().trim()));
        } catch {
          // Already gone.
        }
      }
    });
  }
  const chpasswd = execFile('chpasswd');
  must(chpasswd.stdin, 'chpasswd.stdin').end(`${name}:${password}\n`);
  await new Promise<void>((resolve, reject) =>
    chpasswd.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`chpasswd exited with ${code}`)))),
  );
  const uid = Number((await execFileAsync('id', ['-u', name])).stdout.trim());
  const gid = Number((await execFileAsync('id', ['-g', name])).stdout.trim());
  const home = (await execFileAsync('getent', ['passwd', name])).stdout.trim().split(':')[5] ?? `/home/${name}`;
  return {
    name,
    password,
    uid,
    gid,
    home,
    async remove() {
      removeSync(name, uid);
      created.delete(name);
    },
  };
}
