// Runs one benchmark: `npm run bench -- NAME` imports bench/NAME.ts, runs its default export, prints the result and
// writes it, with the machine it ran on, to bench/results/NAME.json.
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem, platform, release, arch } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { existsSync } from 'node:fs';

const here = dirname(fileURLToPath(import.meta.url));

async function main(): Promise<void> {
  const name = process.argv[2];
  if (!name || !/^[a-z0-9][a-z0-9-]*$/.test(name) || !existsSync(join(here, `${name}.ts`))) {
    process.stderr.write(
      `usage: npm run bench -- NAME, where bench/NAME.ts exists${name ? ` (no bench/${name}.ts)` : ''}\n`,
    );
    process.exit(2);
  }
  const module = (await import(pathToFileURL(join(here, `${name}.ts`)).href)) as { default?: () => Promise<unknown> };
  if (typeof module.default !== 'function') throw new Error(`bench/${name}.ts has no default export function`);
  const startedAt = new Date();
  const result = await module.default();
  const record = {
    name,
    machine: {
      node: process.version,
      platform: `${platform()} ${release()} ${arch()}`,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    },
    date: startedAt.toISOString(),
    durationMs: Date.now() - startedAt.getTime(),
    result,
  };
  const text = `${JSON.stringify(record, null, 2)}\n`;
  process.stdout.write(text);
  await mkdir(join(here, 'results'), { recursive: true });
  await writeFile(join(here, 'results', `${name}.json`), text);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
