/**
 * What the stream needs from the upstream around its zongji connection: where the binlog ends and
 * and its GTID position (for 'current' starts), and a quiet zongji teardown.
 */
import mysql from 'mysql2/promise';
import type ZongJi from '@vlasky/zongji';
import type { BinlogPosition } from '../dataflow/batch.js';

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

export interface UpstreamProbe {
  readonly end: BinlogPosition;
  readonly gtid: string | null;
}

/** The upstream's binlog end and GTID position, from one short-lived connection. */
export async function probeUpstream(url: string): Promise<UpstreamProbe> {
  const conn = await mysql.createConnection({ uri: url, connectTimeout: 10_000 });
  try {
    const [status] = await conn.query<mysql.RowDataPacket[]>('SHOW MASTER STATUS');
    if (status.length === 0) throw new Error('SHOW MASTER STATUS returned nothing: is the binary log enabled?');
    const end = { file: String(status[0].File), position: Number(status[0].Position) };
    let gtid: string | null = null;
    try {
      const [[g]] = await conn.query<mysql.RowDataPacket[]>('SELECT @@GLOBAL.gtid_binlog_pos AS gtid');
      gtid = g.gtid ? String(g.gtid) : null;
    } catch {
      // MySQL has no gtid_binlog_pos; its GTIDs are reported per batch once streaming.
    }
    return { end, gtid };
  } finally {
    await conn.end().catch(() => undefined);
  }
}
