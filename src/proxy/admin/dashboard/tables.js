// Table bodies updated in place, row by row, keyed by id: a row (and the button in it) stays the
// same element across refreshes, so a click is never lost to a redraw.

/**
 * Makes `tbody` hold one row per item, in order: `build(item)` makes a new row's cells once,
 * `update(row, item)` writes its current values on every refresh.
 */
export function syncRows(tbody, items, key, build, update) {
  const existing = new Map([...tbody.rows].map((r) => [r.dataset.key, r]));
  let prev = null;
  for (const item of items) {
    const k = key(item);
    let row = existing.get(k);
    if (row === undefined) {
      row = build(item);
      row.dataset.key = k;
    } else existing.delete(k);
    update(row, item);
    const want = prev === null ? tbody.firstElementChild : prev.nextElementSibling;
    if (want !== row) tbody.insertBefore(row, want);
    prev = row;
  }
  for (const r of existing.values()) r.remove();
}

/** A row of `n` cells; cells whose index is in `numeric` are right-aligned. */
export function row(n, numeric = []) {
  const tr = document.createElement('tr');
  for (let i = 0; i < n; i++) {
    const td = document.createElement('td');
    if (numeric.includes(i)) td.className = 'num';
    tr.append(td);
  }
  return tr;
}

/** Sets a cell's text only when it changed (no layout work for unchanged cells). */
export function text(cell, value) {
  const s = String(value);
  if (cell.textContent !== s) cell.textContent = s;
}
