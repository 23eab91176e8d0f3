/**
 * Collations for the pure tests (planner, operators), which run without a server: look-alikes of
 * utf8mb4_general_ci (case and accents folded, PAD SPACE) and of the `_bin` collations, registered
 * under the real names. Exact collations are MariaDB's own weights, read by the engine and pinned
 * against the server in test/views/collations.test.ts; these only let plans be built.
 */
import { Collation, registerCollation } from '../../src/dataflow/collation.js';

function table(name: string, weigh: (ch: string) => number, width: 2 | 3): Collation {
  const bmp = new Map<number, Buffer>();
  for (let cp = 0; cp < 0x10000; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const w = weigh(String.fromCharCode(cp));
    bmp.set(cp, width === 2 ? Buffer.from([w >> 8, w & 0xff]) : Buffer.from([w >> 16, (w >> 8) & 0xff, w & 0xff]));
  }
  return new Collation({
    name, pad: true, width, bmp,
    supplementary: width === 2 ? { kind: 'same', weight: Buffer.from([0xff, 0xfd]) } : { kind: 'codepoint' },
  });
}

/** A case- and accent-folding collation under `name`. */
export function lookAlikeCi(name = 'utf8mb4_general_ci'): Collation {
  return table(name, (ch) => ch.normalize('NFD').charAt(0).toUpperCase().charCodeAt(0), 2);
}

/** Registers look-alikes for every collation name the pure tests use. */
export function installTestCollations(): void {
  for (const name of ['utf8mb4_general_ci', 'utf8mb4_unicode_ci', 'utf8mb3_general_ci', 'latin1_swedish_ci']) registerCollation(name, lookAlikeCi(name));
  for (const name of ['utf8mb4_bin', 'utf8mb3_bin', 'latin1_bin']) registerCollation(name, table(name, (ch) => ch.charCodeAt(0), 3));
}

installTestCollations();
