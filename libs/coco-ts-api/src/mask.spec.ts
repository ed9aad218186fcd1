import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { area, decode, encode, frBbox, frPoly, frPyObjects, frUncompressedRLE, iou, maskFromRows, maskToRows, merge, toBbox } from './mask-api';
import { fromRLE } from './mask';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');
const ref = JSON.parse(fs.readFileSync(path.join(fixtures, 'mask_api.expected.json'), 'utf8'));
/** Test-table rows [label, case] from a list of reference cases. */
const rows = (list: any[]): [string, any][] => list.map((c, i) => [`#${i} ${c.name ?? ''} ${c.intersect !== undefined ? `intersect=${c.intersect}` : ''}`, c]);

describe('mask API matches pycocotools (shared reference outputs)', () => {
  it.each(rows(ref.encode))('encode %s', (_label, c) => {
    const rle = encode(maskFromRows(c.mask));
    expect(rle).toEqual(c.rle);
    expect(Array.from(fromRLE(rle).cnts)).toEqual(c.uncompressed_counts);
    expect(area(rle)).toBe(c.area);
    expect(toBbox(rle)).toEqual(c.toBbox);
  });

  it.each(rows(ref.decode))('decode %s', (_label, c) => {
    expect(maskToRows(decode(c.rle))).toEqual(c.mask);
    expect(area(c.rle)).toBe(c.area);
    expect(toBbox(c.rle)).toEqual(c.toBbox);
  });

  it.each(rows(ref.frPoly))('frPoly %s', (_label, c) => {
    const parts = frPoly(c.polygons, c.h, c.w);
    expect(parts).toEqual(c.per_part);
    const merged = merge(parts);
    expect(merged).toEqual(c.merged);
    expect(area(merged)).toBe(c.area);
    expect(toBbox(merged)).toEqual(c.toBbox);
    if (c.mask) expect(maskToRows(decode(merged))).toEqual(c.mask);
  });

  it.each(rows(ref.frBbox))('frBbox %s', (_label, c) => {
    const [rle] = frBbox([c.bbox], c.h, c.w);
    expect(rle).toEqual(c.rle);
    expect(area(rle)).toBe(c.area);
    expect(toBbox(rle)).toEqual(c.toBbox);
  });

  it.each(rows(ref.frUncompressed))('frUncompressedRLE %s', (_label, c) => {
    const [rle] = frUncompressedRLE([{ size: c.size, counts: c.counts }]);
    expect(rle).toEqual(c.rle);
    expect(area(rle)).toBe(c.area);
  });

  it.each(rows(ref.merge))('merge %s', (_label, c) => {
    const out = merge(c.rles, !!c.intersect);
    expect(out).toEqual(c.result);
    expect(area(out)).toBe(c.area);
  });

  it.each(rows(ref.iou_rle))('iou %s', (_label, c) => {
    expect(iou(c.dt, c.gt, c.iscrowd)).toEqual(c.iou);
  });

  it.each(rows(ref.iou_bbox))('iou %s', (_label, c) => {
    expect(iou(c.dt, c.gt, c.iscrowd)).toEqual(c.iou);
  });

  it.each(rows(ref.toBbox_noncanonical))('toBbox %s', (_label, c) => {
    const [rle] = frUncompressedRLE([{ size: c.size, counts: c.uncompressed_counts }]);
    expect(rle).toEqual(c.rle);
    expect(toBbox(rle)).toEqual(c.toBbox);
    expect(area(rle)).toBe(c.area);
    if (c.mask) expect(maskToRows(decode(rle))).toEqual(c.mask);
  });
});

describe('mask API: hand-made cases and bad input', () => {
  it('round-trips random masks through encode/decode and long runs through the string form', () => {
    let s = 7;
    const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0), s / 2 ** 32);
    for (let t = 0; t < 20; t++) {
      const h = 1 + Math.floor(rnd() * 40);
      const w = 1 + Math.floor(rnd() * 40);
      const data = Uint8Array.from({ length: h * w }, () => (rnd() < 0.3 ? 1 : 0));
      const m = { height: h, width: w, data };
      expect(decode(encode(m)).data).toEqual(data);
    }
    const big = { size: [3000, 3000] as [number, number], counts: [4_000_000, 4_999_999, 1] };
    const [rle] = frUncompressedRLE([big]);
    expect(Array.from(fromRLE(rle).cnts)).toEqual(big.counts);
  });

  it('iou: a crowd gt divides by the detection area; empty inputs give []', () => {
    expect(iou([[0, 0, 10, 10]], [[0, 0, 20, 20]], [1])).toEqual([[1]]);
    expect(iou([[0, 0, 10, 10]], [[0, 0, 20, 20]], [0])).toEqual([[0.25]]);
    expect(iou([], [[0, 0, 1, 1]], [0])).toEqual([]);
    const a = encode(
      maskFromRows([
        [1, 1],
        [0, 0],
      ]),
    );
    const b = encode(
      maskFromRows([
        [1, 1, 0],
        [0, 0, 0],
      ]),
    );
    expect(iou([a], [b], [0])).toEqual([[-1]]); // sizes differ
  });

  it('frPyObjects dispatches like pycocotools', () => {
    expect(frPyObjects([[0, 0, 3, 0, 3, 3]], 4, 4)).toEqual(frPoly([[0, 0, 3, 0, 3, 3]], 4, 4));
    expect(frPyObjects({ size: [2, 2], counts: [1, 3] }, 2, 2)).toEqual({ size: [2, 2], counts: '13' });
  });

  it('rejects bad input with clear messages', () => {
    expect(() => frPoly([[1]], 5, 5)).toThrow(/polygon 0 has 1 coordinates; a polygon is a list of x, y numbers/);
    expect(() => frUncompressedRLE([{ size: [2, 2], counts: [1, 2] }])).toThrow(/counts sum to 3, but size 2×2 needs 4/);
    expect(() => decode({ size: [2, 2], counts: [1, 2] })).toThrow(/counts sum to 3/);
    expect(() => frPyObjects('x' as never, 2, 2)).toThrow(/neither a polygon list nor an RLE/);
    expect(() => iou([[0, 0, 1, 1]], [[0, 0, 1, 1]], [0, 1])).toThrow(/2 flags for 1 ground truths/);
  });
});
