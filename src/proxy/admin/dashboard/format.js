// Numbers as the dashboard shows them.

const INTEGER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const DECIMAL = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

export function count(n) {
  return n === null || n === undefined ? '–' : INTEGER.format(n);
}

export function decimal(n) {
  return n === null || n === undefined ? '–' : DECIMAL.format(n);
}

export function ms(n) {
  if (n === null || n === undefined) return '–';
  return n >= 100 ? INTEGER.format(n) : DECIMAL.format(n);
}

export function percent(part, whole) {
  return whole > 0 ? `${DECIMAL.format((100 * part) / whole)} %` : '–';
}

export function bytes(n) {
  if (n === null || n === undefined) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? INTEGER.format(n) : DECIMAL.format(n)} ${units[i]}`;
}

/** A duration in seconds as `1h 2m`, `3m 4s` or `5s`. */
export function duration(sec) {
  if (sec === null || sec === undefined) return '–';
  const s = Math.round(sec);
  if (s >= 3600) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${s}s`;
}
