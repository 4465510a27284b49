// The `dvx` command run from the TypeScript sources (bin/dvx.js runs the compiled dist/, which may be older):
// `node --import tsx test/toolchain/dvx-from-sources.ts plugin build DIR`.
import { main } from '../../cli/main.js';

await main(process.argv);
