/** Writes a benchmark's results under bench/results/: JSON, markdown and SVG side by side. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus, totalmem } from 'node:os';

export const RESULTS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'results');

/** What the machine was, for the record (results only compare within one run). */
export function machine(): Record<string, string | number> {
  return {
    cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version, platform: `${process.platform}-${process.arch}`,
  };
}

/**
 * Writes `<base>.json` (or `jsonPath`), `<base>.md` and `<base>.svg` into bench/results/ and
 * returns the paths written.
 */
export function writeReport(base: string, files: { json: unknown; markdown: string; svg: string }, jsonPath?: string): string[] {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const jsonFile = jsonPath ? resolve(jsonPath) : join(RESULTS_DIR, `${base}.json`);
  mkdirSync(dirname(jsonFile), { recursive: true });
  writeFileSync(jsonFile, `${JSON.stringify(files.json, null, 2)}\n`);
  const md = join(RESULTS_DIR, `${base}.md`);
  writeFileSync(md, files.markdown.endsWith('\n') ? files.markdown : `${files.markdown}\n`);
  const svg = join(RESULTS_DIR, `${base}.svg`);
  writeFileSync(svg, files.svg);
  return [jsonFile, md, svg];
}
