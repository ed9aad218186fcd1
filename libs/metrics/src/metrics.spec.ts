import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { accuracy, argmaxRows, classificationReport, confusionMatrix, topKAccuracy } from './classification';
import { plotConfusionMatrix, plotTrainingCurves } from './plots';
import { classificationMarkdown, writeReport } from './report';

// Hand-worked example: 3 classes, 10 samples.
const yTrue = [0, 0, 0, 0, 1, 1, 1, 2, 2, 2];
const yPred = [0, 0, 1, 2, 1, 1, 0, 2, 2, 1];

describe('classification metrics against hand-computed values', () => {
  it('accuracy', () => {
    expect(accuracy(yTrue, yPred)).toBe(0.6);
    expect(() => accuracy([1], [1, 2])).toThrow(/1 labels but 2 predictions/);
  });

  it('confusion matrix (rows true, columns predicted)', () => {
    expect(confusionMatrix(yTrue, yPred, 3)).toEqual([
      [2, 1, 1],
      [1, 2, 0],
      [0, 1, 2],
    ]);
  });

  it('per-class precision/recall/F1 with macro and weighted averages', () => {
    const r = classificationReport(confusionMatrix(yTrue, yPred, 3), ['a', 'b', 'c']);
    // class a: tp 2, predicted 3, support 4 → P 2/3, R 1/2, F1 4/7
    expect(r.perClass[0].precision).toBeCloseTo(2 / 3, 12);
    expect(r.perClass[0].recall).toBeCloseTo(0.5, 12);
    expect(r.perClass[0].f1).toBeCloseTo(4 / 7, 12);
    // class b: tp 2, predicted 4, support 3 → P 1/2, R 2/3, F1 4/7
    expect(r.perClass[1].precision).toBeCloseTo(0.5, 12);
    expect(r.perClass[1].recall).toBeCloseTo(2 / 3, 12);
    // class c: tp 2, predicted 3, support 3 → P 2/3, R 2/3, F1 2/3
    expect(r.perClass[2].f1).toBeCloseTo(2 / 3, 12);
    expect(r.macro.precision).toBeCloseTo((2 / 3 + 0.5 + 2 / 3) / 3, 12);
    expect(r.macro.f1).toBeCloseTo((4 / 7 + 4 / 7 + 2 / 3) / 3, 12);
    expect(r.weighted.recall).toBeCloseTo((4 * 0.5 + 3 * (2 / 3) + 3 * (2 / 3)) / 10, 12); // = accuracy
    expect(r.weighted.f1).toBeCloseTo((4 * (4 / 7) + 3 * (4 / 7) + 3 * (2 / 3)) / 10, 12);
    expect(r.accuracy).toBe(0.6);
  });

  it('a class never predicted has precision 0 (zero_division=0), not NaN', () => {
    const r = classificationReport(confusionMatrix([0, 1], [0, 0], 2), ['a', 'b']);
    expect(r.perClass[1]).toMatchObject({ precision: 0, recall: 0, f1: 0, support: 1 });
  });

  it('top-k accuracy and argmax', () => {
    const scores = [0.1, 0.5, 0.4, /* */ 0.7, 0.2, 0.1, /* */ 0.2, 0.3, 0.5];
    expect(Array.from(argmaxRows(scores, 3))).toEqual([1, 0, 2]);
    expect(topKAccuracy([2, 2, 0], scores, 3, 1)).toBeCloseTo(0);
    expect(topKAccuracy([2, 2, 0], scores, 3, 2)).toBeCloseTo(1 / 3);
    expect(topKAccuracy([2, 2, 0], scores, 3, 3)).toBe(1);
  });
});

describe('reports and plots', () => {
  it('writes report.json, report.md and PNG/SVG plots', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'report-'));
    const cm = confusionMatrix(yTrue, yPred, 3);
    const r = classificationReport(cm, ['a', 'b', 'c']);
    writeReport(dir, { accuracy: r.accuracy }, classificationMarkdown('t', r));
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')).accuracy).toBe(0.6);
    expect(fs.readFileSync(path.join(dir, 'report.md'), 'utf8')).toContain('| a | 66.67 | 50.00 | 57.14 | 4 |');
    const cmPlot = await plotConfusionMatrix(cm, ['a', 'b', 'c'], path.join(dir, 'plots', 'cm'));
    const curves = await plotTrainingCurves(
      [
        { epoch: 1, loss: 1, val_loss: 1.2 },
        { epoch: 2, loss: 0.5, val_loss: 0.8 },
      ],
      path.join(dir, 'plots', 'curves'),
    );
    for (const f of [cmPlot.png, curves.png]) expect(fs.readFileSync(f).subarray(1, 4).toString()).toBe('PNG');
    expect(fs.readFileSync(cmPlot.svg, 'utf8')).toContain('<svg');
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });
});
