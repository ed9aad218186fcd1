/**
 * The Int32Array arguments of the addon's oneDNN entries, packed by name from `native/layouts.json` — the one
 * table the C++ side compiles its index constants from (build.mjs generates build/layouts.hpp), so the two sides
 * cannot disagree about an argument's position.
 */
import table from '../../../native/layouts.json';

export type LayoutName = 'conv' | 'matmul' | 'pool';
type Layout = { params: string[]; offsets: string[] };

/**
 * Packs shape parameters by name (every name of the layout, no other), then wasm-heap offsets in order.
 *
 * @example
 * packArgs('matmul', { batchA: 1, batchB: 1, m, k, n, transA: 0, transB: 0, activation: 0 }, [a, b, -1, c]);
 */
export function packArgs(name: LayoutName, params: Record<string, number>, offsets: number[]): Int32Array {
  const layout = (table as unknown as Record<LayoutName, Layout>)[name];
  const extra = Object.keys(params).filter((k) => !layout.params.includes(k));
  if (extra.length) throw new Error(`native layout '${name}' has no parameter ${extra.join(', ')} (native/layouts.json)`);
  if (layout.offsets.length && offsets.length !== layout.offsets.length)
    throw new Error(`native layout '${name}' takes ${layout.offsets.length} offsets (${layout.offsets.join(', ')}), got ${offsets.length}`);
  return Int32Array.from([
    ...layout.params.map((k) => {
      if (!(k in params)) throw new Error(`native layout '${name}' needs parameter '${k}' (native/layouts.json)`);
      return params[k];
    }),
    ...offsets,
  ]);
}
