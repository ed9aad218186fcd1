import { linspace } from './numeric';

export type IouType = 'bbox' | 'segm' | 'keypoints';
export const IOU_TYPES: IouType[] = ['bbox', 'segm', 'keypoints'];

/** COCO's per-keypoint OKS sigmas for its 17 person keypoints (pycocotools' `kpt_oks_sigmas`). */
export const COCO_KPT_OKS_SIGMAS: readonly number[] = [
  0.26, 0.25, 0.25, 0.35, 0.35, 0.79, 0.79, 0.72, 0.72, 0.62, 0.62, 1.07, 1.07, 0.87, 0.87, 0.89, 0.89,
].map((s) => s / 10);

/**
 * Evaluation parameters with pycocotools' defaults: for detection (bbox, segm) IoU thresholds .50:.05:.95, 101
 * recall thresholds, maxDets [1, 10, 100], area ranges all/small/medium/large, per-category evaluation; for
 * keypoints the same thresholds with maxDets [20], area ranges all/medium/large and COCO's 17 OKS sigmas
 * (`kpt_oks_sigmas`, one per keypoint: set your own for other skeletons).
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
  /** keypoints: the OKS sigma of each keypoint (pycocotools' name). */
  kpt_oks_sigmas: number[] = [...COCO_KPT_OKS_SIGMAS];

  constructor(public iouType: IouType = 'segm') {
    if (iouType === 'keypoints') {
      this.maxDets = [20];
      this.areaRng = [
        [0 ** 2, 1e5 ** 2],
        [32 ** 2, 96 ** 2],
        [96 ** 2, 1e5 ** 2],
      ];
      this.areaRngLbl = ['all', 'medium', 'large'];
    }
  }

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
    p.kpt_oks_sigmas = [...this.kpt_oks_sigmas];
    return p;
  }
}
