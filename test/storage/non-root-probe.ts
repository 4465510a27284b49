// Run as an unprivileged user by non-root.test.ts: what the storage layer does without root.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { initBtrfsPool } from '../../storage/btrfs-pool.js';
import { openStorage } from '../../storage/open-storage.js';
import { must } from '../harness/must.js';

const dataDir = must(process.argv[2], 'the data directory argument');
const report: Record<string, unknown> = {};
try {
  await initBtrfsPool({ dataDir: join(dataDir, 'btrfs'), sizeBytes: 1024 ** 3 });
  report.init = 'created';
} catch (error) {
  report.init = {
    code: (error as { code?: string }).code,
    message: (error as Error).message,
    action: (error as { action?: string }).action,
  };
}
const storage = await openStorage({ dataDir: join(dataDir, 'auto') });
report.kind = storage.kind;
report.root = storage.root;
await storage.createDataset('ds');
await writeFile(join(storage.datasetPath('ds'), 'file'), 'original');
await storage.snapshot('ds', 'snap');
report.snapshotWrite = await writeFile(join(storage.snapshotPath('snap'), 'file'), 'changed').then(
  () => 'written',
  (error: NodeJS.ErrnoException) => error.code,
);
report.snapshotNewFile = await writeFile(join(storage.snapshotPath('snap'), 'new'), 'x').then(
  () => 'written',
  (error: NodeJS.ErrnoException) => error.code,
);
await storage.clone('snap', 'clone');
report.cloneWrite = await writeFile(join(storage.datasetPath('clone'), 'file'), 'changed').then(
  () => 'written',
  (error: NodeJS.ErrnoException) => error.code,
);
await storage.destroySnapshot('snap');
await storage.destroyDataset('clone');
report.left = { snapshot: await storage.hasSnapshot('snap'), clone: await storage.hasDataset('clone') };
process.stdout.write(JSON.stringify(report));
