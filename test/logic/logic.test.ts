import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EngineFixture } from '../views/support.js';
import { runLogicFile } from './runner.js';

const dir = dirname(fileURLToPath(import.meta.url));

describe('logic tests: cached answers equal MariaDB under writes', () => {
  // ROTOR_LOGIC=name runs only the files whose name holds it.
  const only = process.env.ROTOR_LOGIC;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.slt') && (only === undefined || f.includes(only))).sort()) {
    it(`agrees with MariaDB on every query of ${file}`, async () => {
      const f = await EngineFixture.create(`logic_${file.replace(/\W/g, '_')}`, '');
      try {
        const r = await runLogicFile(join(dir, file), f);
        assert.ok(r.queries > 0);
        assert.equal(r.hits, r.queries, 'every query was served from the view on its second read');
      } finally {
        await f.close();
      }
    });
  }
});
