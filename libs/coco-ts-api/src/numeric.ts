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
    let res = r[0] + r[1] + (r[2] + r[3]) + (r[4] + r[5] + (r[6] + r[7]));
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

/**
 * Python's '{:.Nf}'.format(x). `toFixed` rounds the exact binary value correctly except on exact ties,
 * which it rounds away from zero where Python rounds to even (e.g. 0.0625 → '0.062'). Exact ties show as
 * a 5 followed by zeros in the exact expansion (`toFixed(20)` is exact for them: they are multiples of 2^-k).
 */
export function pyFixed(x: number, digits: number): string {
  if (!Number.isFinite(x) || Math.abs(x) >= 1e21) return x.toFixed(digits);
  const exact = Math.abs(x).toFixed(20);
  const dot = exact.indexOf('.');
  const rest = exact.slice(dot + 1 + digits);
  if (!/^50*$/.test(rest)) return x.toFixed(digits);
  const kept = exact.slice(0, dot + 1 + digits).replace(/\.$/, '');
  const lastDigit = Number(kept[kept.length - 1]);
  if (lastDigit % 2 === 1) return x.toFixed(digits); // odd: round away from zero, as toFixed does
  return (x < 0 ? '-' : '') + kept;
}
