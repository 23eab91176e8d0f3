/**
 * A cache's dataflow as Graphviz DOT, for `GET /api/caches/:id/graph`: its nodes top-down from the
 * base tables to its reader, stateful nodes with their key and row counts, and nodes shared with
 * other caches drawn filled and labelled with those caches' names.
 */
import type { Operator } from '../dataflow/operator.js';

export interface DotCache {
  readonly id: string;
  readonly name: string;
  /** Every node the cache uses, the reader last. */
  readonly nodes: ReadonlyArray<Operator>;
}

function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/**
 * DOT for `cache`; `others` are the other registered caches (to mark shared nodes). Courier, not
 * "monospace": Graphviz sizes a node's box from the metrics of a font it knows by name, and knows
 * Courier's (any monospace font of the same width fits the box).
 */
export function cacheDot(cache: DotCache, others: ReadonlyArray<DotCache>): string {
  const ids = new Map<Operator, string>();
  cache.nodes.forEach((n, i) => ids.set(n, `n${i}`));
  const lines = [`digraph ${quote(cache.name)} {`, '  rankdir=TB;', '  node [shape=box, fontname="Courier", fontsize=10];'];
  for (const [node, id] of ids) {
    const sharers = others.filter((o) => o.id !== cache.id && o.nodes.includes(node)).map((o) => o.name);
    let label = `${node.kind}: ${node.describe()}`;
    if (node.state !== null) label += `\nstate: ${node.state.size} keys, ${node.state.usage().rows} rows`;
    if (sharers.length > 0) label += `\nshared with ${sharers.join(', ')}`;
    const attrs = [`label=${quote(label)}`];
    if (sharers.length > 0) attrs.push('style=filled', 'fillcolor="#dbe9f6"');
    if (node.kind === 'reader') attrs.push('shape=ellipse');
    lines.push(`  ${id} [${attrs.join(', ')}];`);
  }
  for (const [node, id] of ids) {
    for (const p of node.parents) {
      const pid = ids.get(p);
      if (pid !== undefined) lines.push(`  ${pid} -> ${id};`);
    }
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
