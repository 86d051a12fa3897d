/** A column of a markdown table: its header and whether its cells line up to the right. */
export interface Column {
  readonly header: string;
  readonly right?: boolean;
}

/**
 * Renders a GitHub-flavoured markdown table, padded so it also reads well as plain text.
 *
 * @example
 * markdownTable([{ header: 'case' }, { header: 'ns', right: true }], [['sorted', '310']]);
 */
export function markdownTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((col, i) => Math.max(3, col.header.length, ...rows.map((row) => (row[i] ?? '').length)));
  const pad = (text: string, i: number): string => {
    const width = widths[i] as number;
    return columns[i]?.right ? text.padStart(width) : text.padEnd(width);
  };
  const line = (cells: readonly string[]): string => `| ${columns.map((_, i) => pad(cells[i] ?? '', i)).join(' | ')} |`;
  const rule = `|${columns.map((col, i) => (col.right ? `${'-'.repeat((widths[i] as number) + 1)}:` : '-'.repeat((widths[i] as number) + 2))).join('|')}|`;
  return [line(columns.map((col) => col.header)), rule, ...rows.map(line)].join('\n');
}
