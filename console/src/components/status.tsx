const TONE: Record<string, string> = {
  READY: 'good',
  ACTIVE: 'good',
  succeeded: 'good',
  ok: 'good',
  up: 'good',
  running: 'busy',
  PROVISIONING: 'busy',
  LINKING: 'busy',
  DISCOVERING: 'busy',
  DELETING: 'busy',
  retrying: 'busy',
  FAILED: 'bad',
  failed: 'bad',
  down: 'bad',
  unavailable: 'bad',
  UNREACHABLE: 'bad',
  INACTIVE: 'bad',
  warning: 'warn',
  cancelled: 'warn',
};

export function Status({ value }: { value: string }) {
  return <span class={`status status-${TONE[value] ?? 'plain'}`}>{value}</span>;
}

export function when(iso: string | undefined): string {
  if (!iso) return '';
  return new Date(iso).toLocaleString();
}

export function duration(ms: number | undefined): string {
  if (ms === undefined) return '';
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function bytes(value: unknown): string {
  if (typeof value !== 'number') return '?';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let n = value;
  let unit = 0;
  while (n >= 1024 && unit < units.length - 1) {
    n /= 1024;
    unit += 1;
  }
  return `${n.toFixed(unit ? 1 : 0)} ${units[unit]}`;
}
