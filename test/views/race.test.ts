/**
 * The race test (single-table caches, top-k, DISTINCT, UNION and ranges): concurrent writers on a few
 * hot keys while readers keep missing on fresh and evicted keys. Once the binlog is drained, every
 * cached answer MUST equal MariaDB's, for every seed. The seed is in every failure message.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { EngineFixture, canonical } from './support.js';
import { seededRandom as prng } from '../support/seeded-random.js';


const SEEDS = (process.env.ROTOR_RACE_SEEDS ?? '1,2,3,4,5,6').split(',').map(Number);
const KEYS = 6;

// Both fill reads: snapshot reads (the engine's own default; the CLI's is locking), whose fills replay the batches past their
// position ([note: snapshot-behind-stream]) and depend on that position being their snapshot's
// own ([note: snapshot-position]: before it was read so, about one run in 40 under load kept a
// UNION key's row its writes had moved out, or a COUNT off by one); and locking reads.
// ROTOR_RACE_SEEDS and ROTOR_RACE_FILL_READS (e.g. `snapshot`) choose the runs.
// `whole`: locking reads for keys, and every cache that can be is filled whole ([note: complete-state])
// while the writers run (they start before the caches are registered); evictions, which make such
// a cache partial again, begin halfway through the reads.
const FILL_READS = (process.env.ROTOR_RACE_FILL_READS ?? 'snapshot,locking,whole').split(',') as Array<'locking' | 'snapshot' | 'whole'>;
for (const mode of FILL_READS) describe(`race (${mode} fills): writers on hot keys, readers missing on fresh and evicted keys`, () => {
  let f: EngineFixture;
  const whole = mode === 'whole';
  before(async () => { f = await EngineFixture.create('views_race', '', { engine: whole ? { fillRead: 'locking', completeRows: 1000 } : { fillRead: mode } }); });
  after(async () => { await f.close(); });

  SEEDS.forEach((seed, run) => {
    it(`leaves every cached answer equal to MariaDB's after draining (seed ${seed})`, async (t) => {
      const rnd = prng(seed);
      const table = `hot_${seed}_${run}`;
      await f.db.admin.query(`CREATE TABLE ${table} (id INT PRIMARY KEY AUTO_INCREMENT, k INT, v INT, INDEX (k))`);
      await f.db.admin.query(`INSERT INTO ${table} (k, v) VALUES ${Array.from({ length: 30 }, (_, i) => `(${(i % KEYS) + 1}, ${i})`).join(', ')}`);
      const groups = `grp_${seed}_${run}`;
      await f.db.admin.query(`CREATE TABLE ${groups} (id INT PRIMARY KEY, label VARCHAR(20), tier INT)`);
      await f.db.admin.query(`INSERT INTO ${groups} VALUES ${Array.from({ length: KEYS - 1 }, (_, i) => `(${i + 1}, 'g${i + 1}', ${(i % 3) + 1})`).join(', ')}`);
      const queries = [
        `SELECT COUNT(*), SUM(v), AVG(v), MIN(v), MAX(v) FROM ${table} WHERE k = ?`,
        `SELECT id, v FROM ${table} WHERE k = ? ORDER BY id`,
        `SELECT k, COUNT(*) FROM ${table} WHERE k IN (?, ?) AND v > 10 GROUP BY k`,
        // Joins with an aggregate: keyed by the join column, and by a column that is not.
        `SELECT g.id, g.label, c.n, c.s, c.lo FROM ${groups} g LEFT JOIN (SELECT k, COUNT(*) AS n, SUM(v) AS s, MIN(v) AS lo FROM ${table} GROUP BY k) AS c ON c.k = g.id WHERE g.id = ?`,
        `SELECT g.id, g.label, c.n, c.lo FROM ${groups} g LEFT JOIN (SELECT k, COUNT(*) AS n, MIN(v) AS lo FROM ${table} GROUP BY k) AS c ON c.k = g.id WHERE g.tier = ?`,
        `SELECT h.id, h.v, g.label FROM ${table} h JOIN ${groups} g ON g.id = h.k WHERE g.tier = ? AND h.v > 20`,
        `SELECT g.tier, COUNT(*), SUM(h.v), MAX(h.v) FROM ${table} h JOIN ${groups} g ON g.id = h.k WHERE g.tier = ? GROUP BY g.tier`,
        `SELECT id, v FROM ${table} WHERE k = ? ORDER BY v DESC, id LIMIT 3`,
        `SELECT DISTINCT k FROM ${table} WHERE k = ?`,
        `SELECT id, v FROM ${table} WHERE k = ? UNION SELECT id, v FROM ${table} WHERE v = ?`,
        // Ranges ([note: range-state]): {lo} and {hi} are range parameters, bound apart from k.
        `SELECT id, v FROM ${table} WHERE v > {lo} ORDER BY v, id LIMIT 4`,
        `SELECT id, k FROM ${table} WHERE k = ? AND v BETWEEN {lo} AND {hi}`,
        `SELECT id, v FROM ${table} WHERE id < {hi} ORDER BY id DESC LIMIT 3`,
      ];
      const caches: Array<{ id: string; parameters: ReadonlyArray<unknown> }> = [];
      const register = async (): Promise<void> => {
        for (const q of queries) caches.push(await f.engine.register({ sql: q.replace(/\{lo\}|\{hi\}/g, '?') }));
      };
      if (!whole) await register();
      const bind = (q: string, k: number) => q.replace('k IN (?, ?)', `k IN (${k}, ${(k % KEYS) + 1})`)
        .replace('{lo}', String(k * 12)).replace('{hi}', String(k * 12 + 30)).replace(/\?/g, String(k));

      let writing = true;
      const writers = await Promise.all([1, 2, 3].map(() => mysql.createConnection({ uri: f.db.url, multipleStatements: true })));
      const write = writers.map(async (w, wi) => {
        const r = prng(seed * 100 + wi);
        const key = () => 1 + Math.floor(r() * 3); // three hot keys
        while (writing) {
          const op = r();
          const v = Math.floor(r() * 100);
          try {
            if (r() < 0.15) {
              const g = key() + Math.floor(r() * 3);
              if (op < 0.4) await w.query(`UPDATE ${groups} SET label = 'l${v}' WHERE id = ${g}`);
              else if (op < 0.7) await w.query(`UPDATE ${groups} SET tier = ${key()} WHERE id = ${g}`);
              else if (op < 0.85) await w.query(`DELETE FROM ${groups} WHERE id = ${g}`);
              else await w.query(`INSERT INTO ${groups} VALUES (${g}, 'n${v}', ${key()}) ON DUPLICATE KEY UPDATE label = 'u${v}'`);
            } else if (op < 0.35) await w.query(`INSERT INTO ${table} (k, v) VALUES (${key()}, ${v})`);
            else if (op < 0.55) await w.query(`UPDATE ${table} SET v = ${v} WHERE k = ${key()} ORDER BY id LIMIT 1`);
            else if (op < 0.7) await w.query(`UPDATE ${table} SET k = ${key()} WHERE k = ${key()} ORDER BY id DESC LIMIT 1`);
            else if (op < 0.85) await w.query(`DELETE FROM ${table} WHERE k = ${key()} ORDER BY v LIMIT 1`);
            else await w.query(`START TRANSACTION; INSERT INTO ${table} (k, v) VALUES (${key()}, ${v}), (${key()}, ${v + 1}); DELETE FROM ${table} WHERE k = ${key()} ORDER BY v DESC LIMIT 1; COMMIT`);
          } catch (e) {
            if (!/deadlock|lock wait/i.test(String(e))) throw e;
            await w.query('ROLLBACK').catch(() => undefined);
          }
        }
      });
      const reads = (async () => {
        if (whole) {
          await register();
          await f.engine.completeFillsSettled();
          const filled = caches.filter((c) => f.engine.get(c.id)?.wholeFill === 'complete').length;
          assert.ok(filled >= 1, `seed ${seed}: ${filled} caches filled whole while the writers ran`);
        }
        for (let i = 0; i < 250; i++) {
          const q = queries[Math.floor(rnd() * queries.length)];
          const k = 1 + Math.floor(rnd() * KEYS);
          const a = await f.ask(bind(q, k));
          assert.notEqual(a.source, 'upstream', `seed ${seed}: ${a.reason}`);
          if (rnd() < 0.1 && (!whole || i >= 125)) {
            const c = caches[Math.floor(rnd() * caches.length)];
            const key = 1 + Math.floor(rnd() * KEYS);
            f.engine.evict(c.id, rnd() < 0.3 ? 'all' : [c.parameters.map(() => key)]);
          }
        }
      })();
      try {
        await reads;
      } finally {
        writing = false;
        await Promise.allSettled(write);
      }
      await Promise.all(write);
      await Promise.all(writers.map((w) => w.end()));
      await f.drain();

      let hits = 0;
      for (const q of queries) {
        for (let k = 1; k <= KEYS; k++) {
          const sql = bind(q, k);
          const ordered = /ORDER BY/.test(sql);
          const truth = canonical((await f.upstream(sql)).rows, ordered);
          const a = await f.ask(sql);
          assert.notEqual(a.source, 'upstream', `seed ${seed}: ${a.reason}`);
          if (a.source === 'hit') hits++;
          assert.equal(canonical(a.rows ?? [], ordered), truth, `seed ${seed}: ${sql}`);
        }
      }
      assert.ok(hits > 0, `seed ${seed}: some answers came from the view`);
      const st = f.engine.upqueryStats;
      t.diagnostic(`seed ${seed}: ${st.upqueries} upqueries, ${st.replayed} batches replayed on fills (${st.replayedEarlier} applied before their fill began), ${st.fenced} fills fenced, ${st.locking} locking reads, ${hits} final hits`);
      for (const c of caches) f.engine.drop(c.id);
    });
  });
});
