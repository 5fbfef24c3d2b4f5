// Plain-text tables for stdout: columns padded to their widest cell, numbers right-aligned.

export interface Column {
  header: string;
  align?: 'left' | 'right';
}

export function formatTable(
  columns: readonly Column[],
  rows: ReadonlyArray<readonly string[]>,
): string {
  const widths = columns.map((c, i) =>
    Math.max(c.header.length, ...rows.map((r) => (r[i] ?? '').length)),
  );
  const cell = (text: string, i: number) =>
    columns[i]!.align === 'right' ? text.padStart(widths[i]!) : text.padEnd(widths[i]!);
  const line = (cells: readonly string[]) =>
    columns
      .map((_, i) => cell(cells[i] ?? '', i))
      .join('  ')
      .trimEnd();
  return [
    line(columns.map((c) => c.header)),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.map(line),
  ].join('\n');
}
