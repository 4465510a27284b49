import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../cli/main.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOC = 'docs/configuration.md';

/**
 * `DVX_*` names in the code that are not read from a user's environment, with why: the doc leaves them out.
 * Anything else the code names must be in the doc.
 */
const INTERNAL: Record<string, string> = {
  DVX_ABOVE_KIB: 'a shell variable of the script runSync sends to the host (hosts/run-sync.ts)',
  DVX_IN_PLACE: 'a shell variable of the script runSync sends to the host',
  DVX_IN_PLACE_ARGS: 'a shell variable of the script runSync sends to the host',
  DVX_DESTINATION_ROOT: 'a shell variable of the script runSync sends to the host',
  DVX_COPY: 'a shell variable of the script runSync sends to the host',
  DVX_LIST_COMMAND: 'a shell variable of the script runSync sends to the host',
  DVX_SFTP_EXPORT:
    "set by the SFTP server's confine script in each session it serves, to find a mount's sessions (storage/sftp-server.ts)",
  DVX_RSH_SOCKET: "set by the engine for its own rsync bridge (hosts/rsh-bridge.mjs), in the bridge's environment",
  DVX_ROOT: 'a shell variable of the script runSync sends to the host (hosts/run-sync.ts)',
  DVX_COUNT: 'a shell variable of the script runSync sends to the host',
  DVX_LINK: 'a shell variable of the script runSync sends to the host (DVX_LINK_<n>)',
  DVX_PASSES: 'a shell variable of the script runSync sends to the host',
  DVX_SRC: 'a shell variable of the script runSync sends to the host (DVX_SRC_<n>)',
  DVX_DST: 'a shell variable of the script runSync sends to the host (DVX_DST_<n>)',
  DVX_ARGS: 'a shell variable of the script runSync sends to the host (DVX_ARGS_<n>)',
  DVX_MODE: 'a shell variable of the script runSync sends to the host (DVX_MODE_<n>)',
  DVX_SOURCE_TARGET: 'a shell variable of the script runSync sends to the host',
  DVX_SOURCE_PORT: 'a shell variable of the script runSync sends to the host',
  DVX_SOURCE_KEY: 'a shell variable of the script runSync sends to the host',
  DVX_SOURCE_KEY_ALGS: 'a shell variable of the script runSync sends to the host',
  DVX_TEST_REDIS: 'set by bench/recovery.ts for the test engine it starts (test/fixtures/test-engine.ts)',
  DVX_TEST_RETRY: 'set by bench/recovery.ts for the test engine it starts (test/fixtures/test-engine.ts)',
};

/** Folders not scanned: installed or built code, the tests themselves, and this doc's own folder. */
const SKIPPED = new Set(['node_modules', 'dist', 'test', 'docs', '.git', '.dvx']);
const SCANNED = /(\.(ts|mts|js|mjs|cjs|sh|ya?ml|json)|^Dockerfile)$/;

async function sourceFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (SKIPPED.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await sourceFiles(path)));
    else if (entry.isFile() && SCANNED.test(entry.name) && entry.name !== 'package-lock.json') files.push(path);
  }
  return files;
}

/** Every `DVX_*` name in the code, with the files naming it. */
async function variablesInCode(): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  for (const file of await sourceFiles(ROOT)) {
    const text = await readFile(file, 'utf8');
    for (const [name] of text.matchAll(/\bDVX_[A-Z0-9_]*[A-Z0-9]/g))
      found.set(name, [...new Set([...(found.get(name) ?? []), relative(ROOT, file)])]);
  }
  return found;
}

/** The cells of the doc's table rows (a `\|` inside a cell is not a separator). */
function tableRows(markdown: string): string[][] {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|[\s:|-]+\|$/.test(line))
    .map((line) =>
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim()),
    );
}

/** Every option of every command: the command's path (`dvx vdb provision`) and the option's long flag. */
function commandOptions(command: Command, path = 'dvx'): { command: string; flag: string }[] {
  return [
    ...command.options.flatMap((option) => (option.long ? [{ command: path, flag: option.long }] : [])),
    ...command.commands.flatMap((sub) => commandOptions(sub, `${path} ${sub.name()}`)),
  ];
}

describe(`${DOC}`, () => {
  it('names every DVX_ variable the code reads, in the first cell of a table row', async () => {
    const rows = tableRows(await readFile(join(ROOT, DOC), 'utf8'));
    const documented = new Set(rows.map((cells) => cells[0]));
    const inCode = await variablesInCode();
    // The scan sees what it must: variables read through process.env, through an env parameter and by a constant.
    for (const name of ['DVX_LISTEN', 'DVX_DATA_DIR', 'DVX_TOKEN', 'DVX_LIVE_RUN_CACHE', 'DVX_SECRET_KEY'])
      expect(inCode.has(name), name).toBe(true);
    const missing = [...inCode]
      .filter(([name]) => !(name in INTERNAL) && !documented.has(`\`${name}\``))
      .map(([name, files]) => `${name} (in ${files.join(', ')})`);
    expect(missing).toEqual([]);
    // An internal name the code no longer uses goes from the list too.
    expect(Object.keys(INTERNAL).filter((name) => !inCode.has(name))).toEqual([]);
  });

  it('has a row for every option of every dvx command, naming the command', async () => {
    const rows = tableRows(await readFile(join(ROOT, DOC), 'utf8'));
    const options = commandOptions(await buildProgram());
    expect(options).toContainEqual({ command: 'dvx quickstart', flag: '--listen' });
    const missing = options.filter(
      ({ command, flag }) =>
        !rows.some(
          ([option, of]) =>
            option !== undefined &&
            of !== undefined &&
            new RegExp(`^\`(-\\w, )?${flag}\\b`).test(option) &&
            of.split(',').some((name) => name.trim() === `\`${command}\``),
        ),
    );
    expect(missing).toEqual([]);
  });

  it('is linked from the README', async () => {
    expect(await readFile(join(ROOT, 'README.md'), 'utf8')).toContain(`(${DOC})`);
  });
});
