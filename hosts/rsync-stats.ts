/** What a copy did, summed over rsync's `--stats` reports. */
export interface RunSyncStats {
  /** Files and directories in the source (rsync's "Number of files"). */
  files: number;
  /** Regular files whose data was sent. */
  filesTransferred: number;
  /** Files removed from the destination because the source no longer has them. */
  filesDeleted: number;
  /** Size of the whole source. */
  totalFileSize: number;
  /** Size of the files that were transferred. */
  transferredFileSize: number;
  /** Bytes rsync actually sent and received (after its delta encoding). */
  bytesOnWire: number;
}

function number(text: string, pattern: RegExp): number {
  let total = 0;
  for (const match of text.matchAll(pattern)) total += Number((match[1] ?? '').replace(/,/g, ''));
  return total;
}

/** Sums every `--stats` block in `output` (one per rsync run). Expects the C locale (`,` between thousands); tolerates the wording of rsync 3.0 to 3.3. */
export function parseRsyncStats(output: string): RunSyncStats {
  return {
    files: number(output, /^Number of files: ([\d,]+)/gm),
    filesTransferred: number(output, /^Number of (?:regular )?files transferred: ([\d,]+)/gm),
    filesDeleted: number(output, /^Number of deleted files: ([\d,]+)/gm),
    totalFileSize: number(output, /^Total file size: ([\d,]+)/gm),
    transferredFileSize: number(output, /^Total transferred file size: ([\d,]+)/gm),
    bytesOnWire: number(output, /^Total bytes (?:sent|received): ([\d,]+)/gm),
  };
}
