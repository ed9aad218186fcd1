import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import * as vega from 'vega';
import * as vl from 'vega-lite';

/** Renders a Vega-Lite spec to SVG (vega's headless renderer) and PNG (rasterised by sharp). */
export async function renderVegaLite(spec: vl.TopLevelSpec, outBase: string): Promise<{ svg: string; png: string }> {
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  fs.mkdirSync(path.dirname(outBase), { recursive: true });
  const svgFile = `${outBase}.svg`;
  const pngFile = `${outBase}.png`;
  fs.writeFileSync(svgFile, svg);
  await sharp(Buffer.from(svg), { density: 144 }).flatten({ background: '#ffffff' }).png().toFile(pngFile);
  return { svg: svgFile, png: pngFile };
}

/**
 * Training curves: one panel per metric family (loss, accuracy, …), train and val lines per epoch.
 *
 * @example
 * await plotTrainingCurves(history, 'runs/classify/exp/plots/training_curves');
 */
export async function plotTrainingCurves(history: Record<string, number>[], outBase: string) {
  const rows: { epoch: number; metric: string; split: string; value: number }[] = [];
  for (const h of history) {
    for (const [key, value] of Object.entries(h)) {
      if (key === 'epoch' || key === 'lr' || key === 'time' || !Number.isFinite(value)) continue;
      const split = key.startsWith('val_') ? 'val' : 'train';
      rows.push({ epoch: h.epoch, metric: key.replace(/^val_/, ''), split, value });
    }
  }
  const spec: vl.TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values: rows },
    facet: { field: 'metric', type: 'nominal', title: null },
    columns: 4, // wrap: GAN runs log seven families
    spec: {
      width: 260,
      height: 180,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1 } },
        y: { field: 'value', type: 'quantitative', scale: { zero: false } },
        color: { field: 'split', type: 'nominal' },
      },
    },
    resolve: { scale: { y: 'independent' } },
  };
  return renderVegaLite(spec, outBase);
}

/** Confusion-matrix heat map with counts in the cells (rows: true class, columns: predicted). */
export async function plotConfusionMatrix(cm: number[][], classNames: string[], outBase: string) {
  const values = cm.flatMap((row, t) => row.map((count, p) => ({ actual: classNames[t], predicted: classNames[p], count })));
  const max = Math.max(1, ...values.map((v) => v.count));
  const spec: vl.TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values },
    width: Math.max(200, 36 * classNames.length),
    height: Math.max(200, 36 * classNames.length),
    encoding: {
      x: { field: 'predicted', type: 'ordinal', sort: classNames },
      y: { field: 'actual', type: 'ordinal', sort: classNames },
    },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'count', type: 'quantitative', scale: { scheme: 'blues' } } } },
      {
        mark: { type: 'text', fontSize: 10 },
        encoding: {
          text: { field: 'count', type: 'quantitative' },
          color: { condition: { test: `datum.count > ${max / 2}`, value: 'white' }, value: 'black' },
        },
      },
    ],
  };
  return renderVegaLite(spec, outBase);
}
