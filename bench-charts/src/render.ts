import type { TopLevelSpec } from 'vega-lite';

// Vega and Vega-Lite are ES modules, and Vega's graph has a top-level await (vega-canvas probing for node-canvas),
// which require() cannot load: they are imported dynamically, once.
type Vega = typeof import('vega');
type VegaLite = typeof import('vega-lite');

/** Average advance of a character of DejaVu Sans and Verdana, in em: mixed case, digits and spaces. */
const EM_PER_CHARACTER = 0.62;

/** What Vega passes of a text mark item. */
interface TextItem {
  fontSize?: number | string | null;
}

function textWidth(item: TextItem, text: string | number | null | undefined): number {
  const fontSize = item.fontSize == null ? 11 : Number(item.fontSize) || 0;
  const chars = text == null ? 0 : String(text).trim().length;
  return Math.ceil(EM_PER_CHARACTER * chars * fontSize);
}

let libraries: Promise<{ vega: Vega; vegaLite: VegaLite }> | undefined;

async function load(): Promise<{ vega: Vega; vegaLite: VegaLite }> {
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  // Vega measures text (for label placement, legend spacing and the SVG's size) with node-canvas when that package
  // is installed, which differs with the machine's fonts, and otherwise with an estimate of 0.8 em a character,
  // which leaves wide empty margins. A fixed width per character for the font stack of CONFIG keeps the SVG the same
  // everywhere and its size close to the text: the hook vl-convert uses (vega-scenegraph's textMetrics.width, not
  // in Vega's typings).
  (vega as unknown as { textMetrics: { width: typeof textWidth } }).textMetrics.width = textWidth;
  return { vega, vegaLite };
}

/** A Vega-Lite spec rendered headless to SVG, with no renderer, canvas or DOM: the same bytes on every run. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  libraries ??= load();
  const { vega, vegaLite } = await libraries;
  const compiled = vegaLite.compile(spec);
  const view = new vega.View(vega.parse(compiled.spec), { renderer: 'none' });
  try {
    return `${await view.toSVG()}\n`;
  } finally {
    view.finalize();
  }
}
