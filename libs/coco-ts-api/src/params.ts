import { linspace } from './numeric';

export type IouType = 'bbox' | 'segm';
export const IOU_TYPES: IouType[] = ['bbox', 'segm'];

/**
 * Evaluation parameters with pycocotools' defaults for detection: IoU thresholds .50:.05:.95, 101 recall
 * thresholds, maxDets [1, 10, 100], area ranges all/small/medium/large, per-category evaluation.
 */
export class Params {
  imgIds: number[] = [];
  catIds: number[] = [];
  /** np.linspace(.5, .95, 10): index 8 is 0.8999999999999999, as in numpy. */
  iouThrs: number[] = linspace(0.5, 0.95, Math.round((0.95 - 0.5) / 0.05) + 1);
  recThrs: number[] = linspace(0, 1, Math.round(1 / 0.01) + 1);
  maxDets: number[] = [1, 10, 100];
  areaRng: [number, number][] = [
    [0 ** 2, 1e5 ** 2],
    [0 ** 2, 32 ** 2],
    [32 ** 2, 96 ** 2],
    [96 ** 2, 1e5 ** 2],
  ];
  areaRngLbl: string[] = ['all', 'small', 'medium', 'large'];
  useCats: 0 | 1 = 1;

  constructor(public iouType: IouType = 'segm') {}

  clone(): Params {
    const p = new Params(this.iouType);
    p.imgIds = [...this.imgIds];
    p.catIds = [...this.catIds];
    p.iouThrs = [...this.iouThrs];
    p.recThrs = [...this.recThrs];
    p.maxDets = [...this.maxDets];
    p.areaRng = this.areaRng.map((r) => [r[0], r[1]]);
    p.areaRngLbl = [...this.areaRngLbl];
    p.useCats = this.useCats;
    return p;
  }
}
