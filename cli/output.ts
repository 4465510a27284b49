/** A column of a table: its header and how to read the cell from a row. */
export interface Column<T> {
  header: string;
  value: (row: T) => unknown;
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  // Objects as JSON; a function or symbol (which JSON leaves out) as its kind.
  return JSON.stringify(value) ?? typeof value;
}

/** A plain aligned text table. */
export function formatTable<T>(rows: T[], columns: Column<T>[]): string {
  const cells = rows.map((row) => columns.map((column) => cell(column.value(row))));
  const widths = columns.map((column, i) =>
    Math.max(column.header.length, ...cells.map((line) => line[i]?.length ?? 0)),
  );
  const line = (values: string[]) =>
    values
      .map((value, i) => (i === values.length - 1 ? value : value.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((column) => column.header.toUpperCase())), ...cells.map(line)].join('\n') + '\n';
}

/** Prints `data` as JSON when asked, otherwise what `human` renders. */
export function print(
  json: boolean | undefined,
  data: unknown,
  human: () => string,
  stream: NodeJS.WritableStream = process.stdout,
): void {
  stream.write(json ? `${JSON.stringify(data, null, 2)}\n` : human());
}

/** "12 s", "1.2 s", "340 ms". */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return '';
  if (ms < 1_000) return `${ms} ms`;
  if (ms < 10_000) return `${(ms / 1_000).toFixed(1)} s`;
  return `${Math.round(ms / 1_000)} s`;
}
