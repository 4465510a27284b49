// Discovery: PostgreSQL installations (repositories) and the clusters running from each (source configs). Clusters
// dvx itself runs (staging standbys, VDBs) are left out: their mount holds dvx/managed-by-dvx.
import { runBash, type DiscoveryOperations } from 'dvx/sdk';
import type { Definitions, Repository, SourceConfig } from './definitions.js';

const REPOSITORIES = String.raw`
set -u
{
  for d in /usr/lib/postgresql/*/bin /usr/pgsql-*/bin /usr/local/pgsql/bin /opt/postgresql/*/bin /usr/local/bin /usr/bin; do
    [ -x "$d/postgres" ] && dirname -- "$(realpath -- "$d/postgres")"
  done
  for tool in postgres pg_ctl; do
    p=$(command -v "$tool" 2>/dev/null) && dirname -- "$(realpath -- "$p")"
  done
} | sort -u | while read -r dir; do
  [ -x "$dir/postgres" ] && [ -x "$dir/pg_ctl" ] || continue
  version=$("$dir/postgres" --version 2>/dev/null | awk '{ print $3 }')
  [ -n "$version" ] && printf 'repo\t%s\t%s\n' "$dir" "$version"
done
`;

// Postmasters are found in /proc (their cwd is the data directory, their port is line 4 of postmaster.pid); on
// Debian, pg_lsclusters adds online clusters /proc cannot show (another user's, without root).
const SOURCE_CONFIGS = String.raw`
set -u
bin=$(realpath -m -- "$BIN")
managed() { [ -e "$1/../dvx/managed-by-dvx" ]; }
for p in /proc/[0-9]*; do
  exe=$(readlink "$p/exe" 2>/dev/null) || continue
  [ "$exe" = "$bin/postgres" ] || continue
  pid=${'${p#/proc/}'}
  ppid=$(sed -E 's/^[0-9]+ \(.*\) [A-Za-z] ([0-9]+) .*/\1/' "$p/stat" 2>/dev/null)
  [ "$(readlink "/proc/$ppid/exe" 2>/dev/null)" = "$exe" ] && continue
  dir=$(readlink "$p/cwd" 2>/dev/null) || continue
  [ "$(head -n 1 "$dir/postmaster.pid" 2>/dev/null)" = "$pid" ] || continue
  managed "$dir" && continue
  printf 'cluster\t%s\t%s\n' "$dir" "$(sed -n 4p "$dir/postmaster.pid")"
done
if command -v pg_lsclusters >/dev/null 2>&1; then
  pg_lsclusters -h 2>/dev/null | while read -r version name port status owner dir rest; do
    case "$status" in online*) ;; *) continue ;; esac
    [ "$(realpath -m -- "/usr/lib/postgresql/$version/bin")" = "$bin" ] || continue
    dir=$(realpath -m -- "$dir")
    managed "$dir" && continue
    printf 'cluster\t%s\t%s\n' "$dir" "$port"
  done
fi
`;

function rows(stdout: string, kind: string): string[][] {
  return stdout
    .split('\n')
    .map((line) => line.split('\t'))
    .filter((fields) => fields[0] === kind)
    .map((fields) => fields.slice(1));
}

export const discovery: DiscoveryOperations<Definitions> = {
  async repository({ sourceConnection }) {
    const result = await runBash(sourceConnection, REPOSITORIES, { checkExitCode: true });
    return rows(result.stdout, 'repo').map(([binDir = '', version = '']): Repository => ({
      name: `PostgreSQL ${version} (${binDir})`,
      binDir,
      version,
    }));
  },
  async sourceConfig({ sourceConnection, repository }) {
    const result = await runBash(sourceConnection, SOURCE_CONFIGS, {
      variables: { BIN: repository.binDir },
      checkExitCode: true,
    });
    const byDir = new Map<string, SourceConfig>();
    for (const [dataDir, port] of rows(result.stdout, 'cluster')) {
      if (!dataDir || byDir.has(dataDir)) continue;
      const config: SourceConfig = { name: `${dataDir} (port ${port})`, dataDir };
      if (port && /^\d+$/.test(port)) config.port = Number(port);
      byDir.set(dataDir, config);
    }
    return [...byDir.values()].sort((a, b) => a.dataDir.localeCompare(b.dataDir));
  },
};
