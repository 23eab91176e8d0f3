/**
 * Polls `probe` every 20 ms until it gives a value (anything but null, undefined or false), which
 * it returns; throws naming `what` after `deadlineMs`. Waits, never a timing assertion.
 */
export async function until<T>(what: string, deadlineMs: number, probe: () => Promise<T | null | undefined | false>): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const v = await probe();
    if (v !== null && v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`not within ${deadlineMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
