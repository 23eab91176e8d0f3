/** Markdown tables for benchmark reports. */

export type Cell = string | number | null | undefined;

/** Formats a number for a table: thousands separators, `digits` decimals; '–' for missing. */
export function fmt(x: number | null | undefined, digits = 2): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '–';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A GitHub-flavoured markdown table; numeric columns are right-aligned. */
export function table(header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<Cell>>): string {
  const text = rows.map((r) => r.map((c) => (c === null || c === undefined ? '–' : String(c))));
  const numeric = header.map((_, i) => text.length > 0 && text.every((r) => /^[-–\d.,×%]*$/.test(r[i] ?? '')));
  const widths = header.map((h, i) => Math.max(h.length, 3, ...text.map((r) => (r[i] ?? '').length)));
  const line = (cells: ReadonlyArray<string>) =>
    `| ${cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (numeric[i] ? `${'-'.repeat(w + 1)}:` : `${'-'.repeat(w + 2)}`)).join('|')}|`;
  return [line(header), rule, ...text.map(line)].join('\n');
}
