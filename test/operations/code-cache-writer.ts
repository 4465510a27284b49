// A separate process that asks for the same code cache entry many times at once, as an engine does when several
// environments rediscover with a newly uploaded plugin. Prints the paths it got, one per line.
import { readFile } from 'node:fs/promises';
import { cachedCodePath } from '../../operations/invoker/code-cache.js';
import type { PluginArtifact } from '../../operations/plugin-artifact.js';

const [artifactPath, cacheDir, count] = process.argv.slice(2);
if (!artifactPath || !cacheDir || !count) throw new Error('usage: code-cache-writer ARTIFACT CACHE_DIR COUNT');
const artifact = JSON.parse(await readFile(artifactPath, 'utf8')) as PluginArtifact;
const paths = await Promise.all(Array.from({ length: Number(count) }, () => cachedCodePath(artifact, cacheDir)));
process.stdout.write(`${paths.join('\n')}\n`);
