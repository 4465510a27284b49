import { Transform, type TransformCallback } from 'node:stream';

/*
 * OpenSSH refuses "signal" channel requests on sessions without post-auth privilege separation (root logins), so a
 * command cannot be killed through the channel everywhere. Instead, every command first reports the pid of its
 * session leader on stderr; sshd makes that process a session and process-group leader, so `kill -- -PID` on another
 * channel ends the command and everything it started. The report line is removed from stderr before anyone sees it.
 * The report is made by the bash that the fixed command line execs (see bash-bootstrap.ts), not by the login shell:
 * `$$` and `>&2` mean other things in csh and fish.
 */

const MARKER = 'dvx-remote-pid=';
/** Stop looking for the report after this many bytes of stderr (a login shell's rc files may print first). */
const SEARCH_LIMIT = 8192;

/**
 * The bash statement that reports the pid. The marker is split in two in the text, so that a login shell echoing the
 * command line it runs (csh's `set echo`, `set -x`) does not show a false report.
 */
export const PID_REPORT = 'echo "dvx-remote""-pid=$$" >&2';

/** The bash statements that kill process group `pid` (and the process itself, should it have left the group). */
export function killProcessGroupScript(pid: number): string {
  if (!Number.isSafeInteger(pid) || pid <= 1) throw new RangeError(`Not a killable pid: ${pid}`);
  return `kill -KILL -- -${pid} 2>/dev/null; kill -KILL ${pid} 2>/dev/null; exit 0`;
}

/** Passes stderr through, minus the pid report, which it hands to `onPid`. */
export class PidReportFilter extends Transform {
  #pending: Buffer | null = Buffer.alloc(0);
  readonly #onPid: (pid: number) => void;

  constructor(onPid: (pid: number) => void) {
    super();
    this.#onPid = onPid;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#pending === null) {
      callback(null, chunk);
      return;
    }
    const buffer = Buffer.concat([this.#pending, chunk]);
    const start = buffer.indexOf(MARKER);
    const end = start < 0 ? -1 : buffer.indexOf(0x0a, start);
    if (start >= 0 && end >= 0) {
      const pid = Number(buffer.subarray(start + Buffer.byteLength(MARKER), end).toString('latin1'));
      if (Number.isSafeInteger(pid) && pid > 1) this.#onPid(pid);
      this.#pending = null;
      const rest = Buffer.concat([buffer.subarray(0, start), buffer.subarray(end + 1)]);
      callback(null, rest.length > 0 ? rest : undefined);
      return;
    }
    if (buffer.length > SEARCH_LIMIT) {
      this.#pending = null;
      callback(null, buffer);
      return;
    }
    this.#pending = buffer;
    callback();
  }

  override _flush(callback: TransformCallback): void {
    const rest = this.#pending;
    this.#pending = null;
    callback(null, rest && rest.length > 0 ? rest : undefined);
  }
}
