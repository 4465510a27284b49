import type { TourFiles } from '../../cli/quickstart/tour.js';
import { entriesDigest } from '../../cli/quickstart/tree-digest.js';
import type { TestIsolatedHost } from './isolated-hosts.js';

// Lists a tree as treeEntries does: `dir`, `link <target>` and `file <sha256>` by relative path (names without tabs
// or newlines, which is all the tour writes).
const LIST = String.raw`
set -euo pipefail
cd "$P"
find . -mindepth 1 \( -type d -printf 'dir\t%P\n' \) -o \( -type l -printf 'link\t%P\t%l\n' \)
find . -mindepth 1 -type f -print0 | xargs -0r sha256sum | sed -E 's#^([0-9a-f]+)  \./#file\t\1\t#' | awk -F'\t' '{print $1"\t"$3"\t"$2}'
`;

async function run(host: TestIsolatedHost, script: string, variables: Record<string, string>): Promise<string> {
  const result = await host.exec(script, variables);
  if (result.exitCode !== 0)
    throw new Error(`on ${host.name}: ${script.trim().split('\n').at(-1)} exited ${result.exitCode}: ${result.stderr}`);
  return result.stdout;
}

/** The files of an isolated host as the tour reads and writes them: in the host's namespaces, as its root. */
export function isolatedHostFiles(host: TestIsolatedHost): TourFiles {
  return {
    async digest(path) {
      const entries: Record<string, string> = {};
      for (const line of (await run(host, LIST, { P: path })).split('\n').filter(Boolean)) {
        const [kind = '', rel = '', value = ''] = line.split('\t');
        entries[rel] = kind === 'dir' ? 'dir' : `${kind} ${value}`;
      }
      return entriesDigest(entries);
    },
    writeFile: async (path, text) => void (await run(host, 'printf %s "$T" > "$P"', { P: path, T: text })),
    appendFile: async (path, text) => void (await run(host, 'printf %s "$T" >> "$P"', { P: path, T: text })),
    remove: async (path) => void (await run(host, 'rm -f -- "$P"', { P: path })),
    isMounted: async (path) => (await host.exec('findmnt -rn --mountpoint "$P"', { P: path })).exitCode === 0,
  };
}
