// The web console's build: `npm run build` runs `vite build --config console/vite.config.ts` after the engine's tsc.
// JSX goes through Vite's own transform (Oxc) with Preact's automatic runtime: no Babel.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/** Where the engine serves the built files from (api/console-route.ts, CONSOLE_ASSETS_PREFIX). */
const ASSETS_PREFIX = '/console-assets/';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: ASSETS_PREFIX,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    // One small app: no module preload polyfill (an inline script the engine's content security policy refuses).
    modulePreload: { polyfill: false },
  },
});
