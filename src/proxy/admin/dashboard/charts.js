// Line charts drawn as inline SVG: one chart per <figure>, redrawn whole from the samples of
// GET /api/history on every refresh (a few hundred points: cheaper than diffing).

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 420;
const HEIGHT = 150;
const PAD = { left: 64, right: 10, top: 10, bottom: 22 };

function el(name, attrs = {}, text) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** The smallest of 1, 2, 2.5, 5 × 10^k at or above `v` (a round top for the y axis). */
function niceCeil(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function ago(seconds) {
  const s = Math.round(seconds);
  return s >= 60 ? `−${Math.floor(s / 60)}m${s % 60 ? ` ${s % 60}s` : ''}` : `−${s}s`;
}

/**
 * Draws a chart into `figure`: `series` are `{ label, values }` over the sample times `times`
 * (ms since the epoch, oldest first); a null value is a gap in the line. `format` writes a value
 * for the axis and the legend. `minTop` is the least top of the y axis.
 */
export function drawChart(figure, { title, series, times, format, minTop = 1 }) {
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const values = series.flatMap((s) => s.values.filter((v) => v !== null));
  const top = niceCeil(Math.max(minTop, ...values));
  const t0 = times[0] ?? 0;
  const t1 = times.at(-1) ?? 0;
  const span = Math.max(t1 - t0, 1);
  const x = (t) => PAD.left + ((t - t0) / span) * plotW;
  const y = (v) => PAD.top + plotH - (v / top) * plotH;

  const svg = el('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-label': title, class: 'chart-svg' });
  for (const f of [0, 0.5, 1]) {
    const gy = y(top * f);
    svg.append(el('line', { x1: PAD.left, x2: WIDTH - PAD.right, y1: gy, y2: gy, class: f === 0 ? 'axis' : 'gridline' }));
    svg.append(el('text', { x: PAD.left - 6, y: gy + 4, 'text-anchor': 'end', class: 'tick' }, format(top * f)));
  }
  if (times.length > 0) {
    svg.append(el('text', { x: PAD.left, y: HEIGHT - 6, 'text-anchor': 'start', class: 'tick' }, ago((t1 - t0) / 1000)));
    svg.append(el('text', { x: WIDTH - PAD.right, y: HEIGHT - 6, 'text-anchor': 'end', class: 'tick' }, 'now'));
  }
  series.forEach((s, i) => {
    // One polyline per run of known values.
    let run = [];
    const flush = () => {
      if (run.length === 1) svg.append(el('circle', { cx: run[0][0], cy: run[0][1], r: 2, class: `series-${i} dot` }));
      else if (run.length > 1) svg.append(el('polyline', { points: run.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(' '), class: `series-${i} line` }));
      run = [];
    };
    s.values.forEach((v, j) => {
      if (v === null) flush();
      else run.push([x(times[j]), y(Math.min(v, top))]);
    });
    flush();
  });

  const caption = document.createElement('figcaption');
  const name = document.createElement('span');
  name.className = 'chart-title';
  name.textContent = title;
  caption.append(name);
  series.forEach((s, i) => {
    const item = document.createElement('span');
    item.className = 'legend';
    const swatch = document.createElement('span');
    swatch.className = `swatch series-${i}`;
    const last = s.values.at(-1);
    item.append(swatch, `${s.label} ${last === null || last === undefined ? '–' : format(last)}`);
    caption.append(item);
  });
  figure.replaceChildren(caption, svg);
  figure.dataset.points = String(times.length);
}
