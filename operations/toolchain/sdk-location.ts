import { fileURLToPath } from 'node:url';

// From the sources (tsx, vitest) the SDK is operations/sdk/index.ts; from dist/ it is index.js with index.d.ts.
const fromSources = import.meta.url.endsWith('.ts');

/** The engine's SDK module that `dvx/sdk` stands for in a plugin bundle (self-contained artifacts embed it). */
export const SDK_ENTRY = fileURLToPath(new URL(`../sdk/index.${fromSources ? 'ts' : 'js'}`, import.meta.url));

/** The file the type checker reads for `dvx/sdk`. */
export const SDK_TYPES = fileURLToPath(new URL(`../sdk/index.${fromSources ? 'ts' : 'd.ts'}`, import.meta.url));
