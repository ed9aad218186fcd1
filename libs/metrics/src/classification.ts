/** Fraction of predictions equal to the labels. */
export function accuracy(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  if (yTrue.length !== yPred.length) throw new Error(`accuracy: ${yTrue.length} labels but ${yPred.length} predictions`);
  if (yTrue.length === 0) return NaN;
  let hit = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) hit++;
  return hit / yTrue.length;
}

/** Index of the largest value in each row of a row-major [N, K] score matrix. */
export function argmaxRows(scores: ArrayLike<number>, k: number): Int32Array {
  const n = scores.length / k;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (scores[i * k + j] > scores[i * k + best]) best = j;
    out[i] = best;
  }
  return out;
}

/**
 * Top-k accuracy: the label is among the k highest scores. Ties with the k-th score count as hits only
 * up to k entries (ranks by score, then by lower class index, like a stable sort).
 *
 * @example
 * topKAccuracy([2], [0.1, 0.5, 0.4], 3, 2) // 1: class 2 is second best
 */
export function topKAccuracy(yTrue: ArrayLike<number>, scores: ArrayLike<number>, numClasses: number, k: number): number {
  let hit = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const s = scores[i * numClasses + yTrue[i]];
    let rank = 0;
    for (let j = 0; j < numClasses; j++) {
      const v = scores[i * numClasses + j];
      if (v > s || (v === s && j < yTrue[i])) rank++;
    }
    if (rank < k) hit++;
  }
  return hit / yTrue.length;
}

/** Confusion matrix: rows are true classes, columns predicted; `cm[t][p]` counts. */
export function confusionMatrix(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, numClasses: number): number[][] {
  const cm = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < yTrue.length; i++) cm[yTrue[i]][yPred[i]]++;
  return cm;
}

export interface ClassScores {
  precision: number;
  recall: number;
  f1: number;
  /** True instances of the class. */
  support: number;
}

export interface ClassificationReport {
  perClass: (ClassScores & { className: string })[];
  macro: ClassScores;
  weighted: ClassScores;
  accuracy: number;
}

/**
 * Per-class precision, recall and F1 with macro and support-weighted averages, from a confusion matrix.
 * An undefined ratio (0/0) counts as 0, as scikit-learn's `zero_division=0`.
 *
 * @example
 * classificationReport([[5, 1], [2, 2]], ['a', 'b']).perClass[0].precision // 5/7
 */
export function classificationReport(cm: number[][], classNames: string[]): ClassificationReport {
  const k = cm.length;
  const div = (a: number, b: number) => (b === 0 ? 0 : a / b);
  const perClass = cm.map((row, c) => {
    const tp = row[c];
    const support = row.reduce((a, b) => a + b, 0);
    const predicted = cm.reduce((s, r) => s + r[c], 0);
    const precision = div(tp, predicted);
    const recall = div(tp, support);
    return { className: classNames[c] ?? String(c), precision, recall, f1: div(2 * precision * recall, precision + recall), support };
  });
  const total = perClass.reduce((s, p) => s + p.support, 0);
  const avg = (w: (p: ClassScores) => number, norm: number): ClassScores => ({
    precision: perClass.reduce((s, p) => s + w(p) * p.precision, 0) / norm,
    recall: perClass.reduce((s, p) => s + w(p) * p.recall, 0) / norm,
    f1: perClass.reduce((s, p) => s + w(p) * p.f1, 0) / norm,
    support: total,
  });
  const correct = cm.reduce((s, row, c) => s + row[c], 0);
  return { perClass, macro: avg(() => 1, k), weighted: avg((p) => p.support, total || 1), accuracy: div(correct, total) };
}
