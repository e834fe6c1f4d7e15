// A plain-text table for the terminal: one row per figure, floor and ours side by side.
export interface Row {
  metric: string;
  floor: string;
  ours: string;
  target: string;
  status: 'PASS' | 'MISS' | 'info' | 'n/a';
}

export function printTable(rows: readonly Row[]): void {
  const header: Row = { metric: 'metric', floor: 'floor', ours: 'ours', target: 'target', status: 'info' };
  const cells = (r: Row): string[] => [r.metric, r.floor, r.ours, r.target, r === header ? 'result' : r.status === 'info' ? '' : r.status];
  const all = [header, ...rows].map(cells);
  const widths = [0, 1, 2, 3, 4].map((i) => Math.max(...all.map((c) => (c[i] ?? '').length)));
  const line = (c: string[]): string => c.map((text, i) => text.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  const out = [line(all[0] ?? []), widths.map((w) => '-'.repeat(w)).join('  '), ...all.slice(1).map(line)];
  // stdout is the bench's report (this is not the MCP server), so it goes there.
  process.stdout.write(`\n${out.join('\n')}\n`);
}

/** The same rows as a Markdown table, for the README. */
export function markdownTable(rows: readonly Row[]): string {
  const esc = (text: string): string => text.replace(/\|/g, '\\|');
  const lines = ['| metric | floor | ours | target | result |', '|---|---|---|---|---|'];
  for (const r of rows) lines.push(`| ${[r.metric, r.floor, r.ours, r.target, r.status === 'info' ? '' : r.status].map(esc).join(' | ')} |`);
  return lines.join('\n');
}
