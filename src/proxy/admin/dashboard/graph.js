// A cache's dataflow (the DOT of GET /api/caches/:id/graph) drawn by Graphviz compiled to
// WebAssembly (@viz-js/viz, served from Rotor's node_modules at /dashboard/vendor/viz.js), loaded
// the first time a graph is drawn.

/** @type {Promise<import('@viz-js/viz').Viz> | null} */
let viz = null;

/** Renders `dot` into `container` as SVG; on failure shows the error and the DOT text. */
export async function drawDot(container, dot) {
  try {
    // @ts-expect-error: served from node_modules/@viz-js/viz (typed above), not a file beside this one.
    viz ??= import('./vendor/viz.js').then((m) => m.instance());
    const svg = (await viz).renderSVGElement(dot);
    svg.classList.add('dataflow');
    container.replaceChildren(svg);
  } catch (err) {
    viz = null;
    const p = document.createElement('p');
    p.className = 'error';
    p.textContent = `The graph could not be drawn: ${err instanceof Error ? err.message : String(err)}`;
    const pre = document.createElement('pre');
    pre.textContent = dot;
    container.replaceChildren(p, pre);
  }
}
