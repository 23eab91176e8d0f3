/** A quiet zongji teardown, for the stream's reconnects and its stop. */
import type ZongJi from '@vlasky/zongji';

/** Stops a zongji instance, quietly, waiting (briefly) until its connections are gone. */
export async function teardown(z: ZongJi): Promise<void> {
  z.removeAllListeners('binlog');
  z.removeAllListeners('ready');
  z.removeAllListeners('error');
  z.on('error', () => undefined);
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, 2_000);
    t.unref();
    z.once('stopped', () => { clearTimeout(t); resolve(); });
    try {
      z.stop();
    } catch {
      clearTimeout(t);
      resolve();
    }
  });
}
