/**
 * A one-line progress bar on stderr (redrawn in place on a terminal, a line every few seconds
 * otherwise), so stdout stays clean for the result table.
 */

/** Draws progress for one phase; call `update` as often as you like, `done` once. */
export class ProgressBar {
  readonly #label: string;
  readonly #total: number;
  readonly #tty = Boolean(process.stderr.isTTY);
  readonly #started = performance.now();
  #lastDraw = 0;
  #lastLine = '';

  constructor(label: string, total: number) {
    this.#label = label;
    this.#total = total;
  }

  /** Shows `done` of total, with free text (rates, lag) after the bar. */
  update(done: number, extra = ''): void {
    const now = performance.now();
    if (now - this.#lastDraw < (this.#tty ? 100 : 5000)) return;
    this.#lastDraw = now;
    this.#draw(done, extra);
  }

  /** Draws the final state and ends the line. */
  done(done: number, extra = ''): void {
    this.#draw(done, extra);
    if (this.#tty) process.stderr.write('\n');
  }

  #draw(done: number, extra: string): void {
    const frac = this.#total > 0 ? Math.min(1, done / this.#total) : 0;
    const width = 30;
    const full = Math.round(frac * width);
    const secs = ((performance.now() - this.#started) / 1000).toFixed(1);
    const line = `${this.#label.padEnd(14)} [${'#'.repeat(full)}${'.'.repeat(width - full)}] ${(frac * 100).toFixed(0).padStart(3)}% ${done}/${this.#total} ${secs}s ${extra}`;
    if (this.#tty) {
      const pad = Math.max(0, this.#lastLine.length - line.length);
      process.stderr.write(`\r${line}${' '.repeat(pad)}`);
    } else {
      process.stderr.write(`${line}\n`);
    }
    this.#lastLine = line;
  }
}

/** Writes a status line to stderr (never stdout: the result table goes there). */
export function note(message: string): void {
  process.stderr.write(`${message}\n`);
}
