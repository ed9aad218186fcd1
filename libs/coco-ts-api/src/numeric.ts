/** numpy-compatible numerics, so that evaluation numbers match pycocotools bit for bit. */

/** np.linspace(start, stop, num): start + i·step with step = (stop−start)/(num−1), last element = stop. */
export function linspace(start: number, stop: number, num: number): number[] {
  if (num === 1) return [start];
  const step = (stop - start) / (num - 1);
  const out = Array.from({ length: num }, (_, i) => i * step + start);
  out[num - 1] = stop;
  return out;
}

/** numpy's pairwise summation (as np.add.reduce does for float64): blocks of 128, 8 partial sums. */
export function pairwiseSum(a: ArrayLike<number>, start = 0, n = a.length - start): number {
  if (n < 8) {
    let s = 0;
    for (let i = 0; i < n; i++) s += a[start + i];
    return s;
  }
  if (n <= 128) {
    const r = [a[start], a[start + 1], a[start + 2], a[start + 3], a[start + 4], a[start + 5], a[start + 6], a[start + 7]];
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] += a[start + i + j];
    let res = (r[0] + r[1] + (r[2] + r[3])) + (r[4] + r[5] + (r[6] + r[7]));
    for (; i < n; i++) res += a[start + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, start, n2) + pairwiseSum(a, start + n2, n - n2);
}

/** np.mean of the values > −1, or −1 when there are none (pycocotools' summarize rule). */
export function meanOfValid(values: ArrayLike<number>): number {
  const kept: number[] = [];
  for (let i = 0; i < values.length; i++) if (values[i] > -1) kept.push(values[i]);
  return kept.length ? pairwiseSum(kept) / kept.length : -1;
}

/** Python's '{:.Nf}'.format(x): like toFixed, but exact binary ties round half to even. */
export function pyFixed(x: number, digits: number): string {
  const scaled = x * 10 ** digits;
  const floor = Math.floor(scaled);
  if (scaled - floor === 0.5 && Number.isFinite(scaled) && Math.abs(scaled) < 2 ** 52 && x * 10 ** digits === scaled) {
    const even = floor % 2 === 0 ? floor : floor + 1;
    const s = (Math.abs(even) / 10 ** digits).toFixed(digits);
    return (even < 0 || (even === 0 && x < 0) ? '-' : '') + s;
  }
  return x.toFixed(digits);
}
