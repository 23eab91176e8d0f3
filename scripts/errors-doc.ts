/** Regenerates the table in docs/errors.md from src/errors.ts: `tsx scripts/errors-doc.ts`. */
import { readFileSync, writeFileSync } from 'node:fs';
import { ERRORS } from '../src/errors.js';

const path = new URL('../docs/errors.md', import.meta.url);
const doc = readFileSync(path, 'utf8');
const rows = Object.entries(ERRORS).map(
  ([code, s]) => `| \`${code}\` | ${s.errno} | ${s.sqlState} | ${s.http} | ${s.message.replace(/\|/g, '\\|')} |`,
);
const table = ['| code | errno | SQLSTATE | HTTP | message |', '|---|---|---|---|---|', ...rows].join('\n');
writeFileSync(path, doc.replace(/<!-- catalog -->[\s\S]*<!-- \/catalog -->/, `<!-- catalog -->\n${table}\n<!-- /catalog -->`));
