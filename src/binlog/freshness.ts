/**
 * [note: staleness-bound] Cached answers are only as fresh as the binlog stream behind them. While
 * the stream lags the upstream by more than the bound, or has been disconnected for longer than
 * the bound (nothing arrives, so the views may miss any write made since), every cached read goes
 * upstream; once the stream is back within the bound, caches answer again. The engine exposes the
 * reason (`Engine.staleReason`), the router checks it on every cached read (src/views/router.ts),
 * and test/e2e/staleness.test.ts pins the behaviour.
 */
import type { BinlogStatus } from './stream.js';

export interface FreshnessWatch {
  /** The current reason reads may not be served from caches, or null. */
  check(now?: number): string | null;
  stop(): void;
}

/**
 * Polls `status()` every `everyMs` and reports transitions through `onChange`. Lag is measured
 * by the stream against the upstream's clock; the time since the connection was lost is local.
 */
export function watchFreshness(
  status: () => Pick<BinlogStatus, 'connected' | 'lagMs'>,
  boundMs: number,
  onChange: (reason: string | null) => void,
  everyMs = 100,
): FreshnessWatch {
  let downSince: number | null = null;
  let current: string | null = null;
  const check = (now = Date.now()): string | null => {
    const s = status();
    let reason: string | null = null;
    if (!s.connected) {
      downSince ??= now;
      if (now - downSince > boundMs) reason = `the binlog connection has been down for more than ${boundMs} ms`;
    } else {
      downSince = null;
      if (s.lagMs !== null && s.lagMs > boundMs) reason = `the binlog lags the upstream by more than ${boundMs} ms`;
    }
    if (reason !== current) {
      current = reason;
      onChange(reason);
    }
    return reason;
  };
  const timer = setInterval(check, everyMs);
  timer.unref();
  return { check, stop: () => clearInterval(timer) };
}
