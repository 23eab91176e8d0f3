/**
 * Hand-written SVG charts for benchmark reports (no chart dependency): grouped bar charts and line
 * charts, stacked vertically into one self-contained file.
 */

const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#9c755f'];
const WIDTH = 760;

/** One panel of a chart file: an SVG fragment drawn in a WIDTH x height box at the origin. */
export interface Panel {
  readonly height: number;
  readonly body: string;
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function niceMax(x: number): number {
  if (!(x > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

function label(x: number): string {
  if (x === 0) return '0';
  if (Math.abs(x) >= 1000) return x.toLocaleString('en-US', { maximumFractionDigits: 0 });
  return Number(x.toPrecision(3)).toString();
}

function legend(names: ReadonlyArray<string>, y: number): string {
  return names
    .map((n, i) => {
      const x = 70 + i * 150;
      return `<rect x="${x}" y="${y - 9}" width="10" height="10" fill="${PALETTE[i % PALETTE.length]}"/>` +
        `<text x="${x + 14}" y="${y}" font-size="11">${esc(n)}</text>`;
    })
    .join('');
}

function axes(title: string, yUnit: string, top: number, plotH: number, max: number): string {
  let out = `<text x="${WIDTH / 2}" y="18" font-size="14" font-weight="bold" text-anchor="middle">${esc(title)}</text>`;
  out += `<text x="14" y="${top + plotH / 2}" font-size="11" transform="rotate(-90 14 ${top + plotH / 2})" text-anchor="middle">${esc(yUnit)}</text>`;
  for (let t = 0; t <= 4; t++) {
    const v = (max * t) / 4;
    const y = top + plotH - (plotH * t) / 4;
    out += `<line x1="60" x2="${WIDTH - 20}" y1="${y}" y2="${y}" stroke="#ddd"/>`;
    out += `<text x="56" y="${y + 4}" font-size="10" text-anchor="end">${label(v)}</text>`;
  }
  out += `<line x1="60" x2="60" y1="${top}" y2="${top + plotH}" stroke="#333"/>`;
  return out;
}

/**
 * Grouped bars: one group per category (e.g. a query), one bar per series (e.g. a contender).
 * `values[s][g]` is series s in group g; null draws no bar.
 */
export function barChart(
  title: string, yUnit: string, groups: ReadonlyArray<string>, series: ReadonlyArray<string>,
  values: ReadonlyArray<ReadonlyArray<number | null>>,
): Panel {
  const height = 260;
  const top = 40;
  const plotH = 160;
  const max = niceMax(Math.max(0, ...values.flat().map((v) => v ?? 0)));
  let body = axes(title, yUnit, top, plotH, max);
  const groupW = (WIDTH - 90) / Math.max(1, groups.length);
  const barW = Math.min(40, (groupW - 20) / Math.max(1, series.length));
  groups.forEach((g, gi) => {
    const gx = 70 + gi * groupW + (groupW - barW * series.length) / 2;
    series.forEach((_, si) => {
      const v = values[si]?.[gi];
      if (v === null || v === undefined) return;
      const h = (plotH * v) / max;
      const x = gx + si * barW;
      body += `<rect x="${x.toFixed(1)}" y="${(top + plotH - h).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${PALETTE[si % PALETTE.length]}"><title>${esc(series[si])} ${esc(g)}: ${label(v)} ${esc(yUnit)}</title></rect>`;
      body += `<text x="${(x + barW / 2 - 1).toFixed(1)}" y="${(top + plotH - h - 3).toFixed(1)}" font-size="9" text-anchor="middle">${label(v)}</text>`;
    });
    body += `<text x="${(70 + gi * groupW + groupW / 2).toFixed(1)}" y="${top + plotH + 16}" font-size="11" text-anchor="middle">${esc(g)}</text>`;
  });
  body += legend(series, top + plotH + 42);
  return { height, body };
}

/**
 * Lines over a shared x axis (e.g. seconds into the run). `refs` draws labelled dashed horizontal
 * lines (e.g. a limit) across the plot, included in the y range.
 */
export function lineChart(
  title: string, xUnit: string, yUnit: string,
  series: ReadonlyArray<{ readonly name: string; readonly points: ReadonlyArray<readonly [number, number]> }>,
  refs: ReadonlyArray<{ readonly name: string; readonly y: number }> = [],
): Panel {
  const height = 270;
  const top = 40;
  const plotH = 160;
  const plotW = WIDTH - 90;
  const all = series.flatMap((s) => s.points);
  const maxY = niceMax(Math.max(0, ...all.map((p) => p[1]), ...refs.map((r) => r.y)));
  const maxX = niceMax(Math.max(0, ...all.map((p) => p[0])));
  let body = axes(title, yUnit, top, plotH, maxY);
  for (let t = 0; t <= 4; t++) {
    const x = 60 + (plotW * t) / 4;
    body += `<text x="${x}" y="${top + plotH + 14}" font-size="10" text-anchor="middle">${label((maxX * t) / 4)}</text>`;
  }
  body += `<text x="${60 + plotW / 2}" y="${top + plotH + 30}" font-size="11" text-anchor="middle">${esc(xUnit)}</text>`;
  if (all.length === 0) {
    body += `<text x="${60 + plotW / 2}" y="${top + plotH / 2}" font-size="12" text-anchor="middle" fill="#888">no samples</text>`;
  }
  for (const r of refs) {
    const y = (top + plotH - (plotH * r.y) / maxY).toFixed(1);
    body += `<line x1="60" x2="${WIDTH - 20}" y1="${y}" y2="${y}" stroke="#555" stroke-dasharray="5 4"/>`;
    body += `<text x="${WIDTH - 22}" y="${Number(y) - 3}" font-size="10" fill="#555" text-anchor="end">${esc(r.name)}</text>`;
  }
  series.forEach((s, si) => {
    if (s.points.length === 0) return;
    const d = s.points
      .map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${(60 + (plotW * x) / maxX).toFixed(1)},${(top + plotH - (plotH * y) / maxY).toFixed(1)}`)
      .join('');
    body += `<path d="${d}" fill="none" stroke="${PALETTE[si % PALETTE.length]}" stroke-width="1.5"/>`;
  });
  body += legend(series.map((s) => s.name), top + plotH + 52);
  return { height, body };
}

/** Stacks panels into one standalone SVG document. */
export function svgDocument(panels: ReadonlyArray<Panel>, caption = ''): string {
  let y = 0;
  let inner = '';
  for (const p of panels) {
    inner += `<g transform="translate(0 ${y})">${p.body}</g>`;
    y += p.height;
  }
  if (caption) {
    inner += `<text x="10" y="${y + 14}" font-size="10" fill="#555">${esc(caption)}</text>`;
    y += 22;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y}" viewBox="0 0 ${WIDTH} ${y}" font-family="sans-serif">` +
    `<rect width="100%" height="100%" fill="#fff"/>${inner}</svg>\n`;
}
