/**
 * The COCO dataset index (pycocotools' `COCO` class): images, annotations, categories, image→annotations,
 * category→images; id queries; `loadRes` for detection results; `annToRLE` / `annToRuns` / `annToMask`.
 */
import { type Bbox, decode, frPyObjectsRuns, pyObjectKind, type RLE, type UncompressedRLE } from './mask-api';
import { countsMark, countsRelease, fromRLE, type Mask, mergeRuns, type Polygon, type Runs, runsArea, runsToBbox, toRLE } from './mask';

export interface CocoImage {
  id: number;
  width: number;
  height: number;
  file_name?: string;
  [key: string]: unknown;
}

export interface CocoCategory {
  id: number;
  name: string;
  supercategory?: string;
  [key: string]: unknown;
}

export type Segmentation = Polygon[] | RLE | UncompressedRLE;

export interface CocoAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  bbox?: Bbox;
  area?: number;
  iscrowd?: number;
  segmentation?: Segmentation;
  score?: number;
  ignore?: number;
  [key: string]: unknown;
}

export interface CocoDataset {
  info?: unknown;
  licenses?: unknown;
  images?: CocoImage[];
  annotations?: CocoAnnotation[];
  categories?: CocoCategory[];
}

/** One detection as a results file lists it. */
export interface CocoResult {
  image_id: number;
  category_id: number;
  score: number;
  bbox?: Bbox;
  segmentation?: RLE | UncompressedRLE | Polygon[];
  [key: string]: unknown;
}

/** A dataset or results problem; the message names the annotation id or field. */
export class CocoError extends Error {
  override name = 'CocoError';
}

const toSet = (ids: number | number[] | undefined): number[] => (ids === undefined ? [] : Array.isArray(ids) ? ids : [ids]);

/**
 * A COCO ground-truth (or result) set with pycocotools' indexes and queries.
 *
 * @example
 * const coco = new COCO(JSON.parse(text));
 * const annIds = coco.getAnnIds({ imgIds: [42], catIds: [1], iscrowd: false });
 */
export class COCO {
  readonly dataset: CocoDataset;
  readonly anns = new Map<number, CocoAnnotation>();
  readonly imgs = new Map<number, CocoImage>();
  readonly cats = new Map<number, CocoCategory>();
  readonly imgToAnns = new Map<number, CocoAnnotation[]>();
  readonly catToImgs = new Map<number, number[]>();

  constructor(dataset: CocoDataset = {}) {
    if (dataset === null || typeof dataset !== 'object' || Array.isArray(dataset)) {
      throw new CocoError('a COCO dataset must be an object with images, annotations and categories');
    }
    this.dataset = dataset;
    this.createIndex();
  }

  private createIndex(): void {
    const { annotations, images, categories } = this.dataset;
    for (const [name, list] of [
      ['images', images],
      ['annotations', annotations],
      ['categories', categories],
    ] as const) {
      if (list !== undefined && !Array.isArray(list)) throw new CocoError(`dataset field '${name}' must be a list`);
    }
    const repeated = new Set<number>();
    for (const ann of annotations ?? []) {
      if (ann === null || typeof ann !== 'object') throw new CocoError('an annotation is not an object');
      if (typeof ann.image_id !== 'number') throw new CocoError(`annotation ${ann.id ?? '(no id)'} has no numeric 'image_id'`);
      if (!this.imgToAnns.has(ann.image_id)) this.imgToAnns.set(ann.image_id, []);
      this.imgToAnns.get(ann.image_id)!.push(ann);
      if (this.anns.has(ann.id)) repeated.add(ann.id);
      this.anns.set(ann.id, ann);
    }
    if (repeated.size) {
      // pycocotools' index keeps the last annotation of an id, and its evaluation then reads that one for every
      // occurrence: numbers that depend on the file's order. Refused rather than reproduced in silence.
      const ids = [...repeated].slice(0, 5).join(', ');
      throw new CocoError(
        `annotation id${repeated.size > 1 ? 's' : ''} ${ids}${repeated.size > 5 ? ` and ${repeated.size - 5} more` : ''} appear${repeated.size > 1 ? '' : 's'} more than once; pycocotools would evaluate the last annotation of an id in place of every one of them — give each annotation its own id`,
      );
    }
    for (const img of images ?? []) this.imgs.set(img.id, img);
    for (const cat of categories ?? []) this.cats.set(cat.id, cat);
    if (annotations && categories) {
      for (const ann of annotations) {
        if (typeof ann.category_id !== 'number') throw new CocoError(`annotation ${ann.id} has no numeric 'category_id'`);
        if (!this.catToImgs.has(ann.category_id)) this.catToImgs.set(ann.category_id, []);
        this.catToImgs.get(ann.category_id)!.push(ann.image_id);
      }
    }
  }

  /**
   * Annotation ids matching all given filters (pycocotools semantics: `areaRng` is exclusive at both ends
   * here, unlike the evaluator's area ranges).
   */
  getAnnIds({
    imgIds,
    catIds,
    areaRng,
    iscrowd,
  }: { imgIds?: number | number[]; catIds?: number | number[]; areaRng?: [number, number]; iscrowd?: boolean | number | null } = {}): number[] {
    const imgs = toSet(imgIds);
    const cats = toSet(catIds);
    let anns: CocoAnnotation[];
    if (imgs.length) anns = imgs.flatMap((id) => this.imgToAnns.get(id) ?? []);
    else anns = this.dataset.annotations ?? [];
    if (cats.length) {
      const set = new Set(cats);
      anns = anns.filter((a) => set.has(a.category_id));
    }
    if (areaRng && areaRng.length) anns = anns.filter((a) => (a.area as number) > areaRng[0] && (a.area as number) < areaRng[1]);
    if (iscrowd !== undefined && iscrowd !== null) anns = anns.filter((a) => Number(a.iscrowd) === Number(iscrowd));
    return anns.map((a) => a.id);
  }

  /** Category ids filtered by name, supercategory or id, in dataset order. */
  getCatIds({ catNms, supNms, catIds }: { catNms?: string[]; supNms?: string[]; catIds?: number[] } = {}): number[] {
    let cats = this.dataset.categories ?? [];
    if (catNms?.length) cats = cats.filter((c) => catNms.includes(c.name));
    if (supNms?.length) cats = cats.filter((c) => c.supercategory !== undefined && supNms.includes(c.supercategory));
    if (catIds?.length) cats = cats.filter((c) => catIds.includes(c.id));
    return cats.map((c) => c.id);
  }

  /** Image ids: all, or those given intersected with the images of every given category. */
  getImgIds({ imgIds, catIds }: { imgIds?: number | number[]; catIds?: number | number[] } = {}): number[] {
    const imgs = toSet(imgIds);
    const cats = toSet(catIds);
    if (!imgs.length && !cats.length) return [...this.imgs.keys()];
    let ids = new Set(imgs);
    cats.forEach((catId, i) => {
      const of = new Set(this.catToImgs.get(catId) ?? []);
      ids = i === 0 && ids.size === 0 ? of : new Set([...ids].filter((id) => of.has(id)));
    });
    return [...ids];
  }

  loadAnns(ids: number | number[]): CocoAnnotation[] {
    return toSet(ids).map((id) => {
      const a = this.anns.get(id);
      if (!a) throw new CocoError(`no annotation with id ${id}`);
      return a;
    });
  }

  loadCats(ids: number | number[]): CocoCategory[] {
    return toSet(ids).map((id) => {
      const c = this.cats.get(id);
      if (!c) throw new CocoError(`no category with id ${id}`);
      return c;
    });
  }

  loadImgs(ids: number | number[]): CocoImage[] {
    return toSet(ids).map((id) => {
      const im = this.imgs.get(id);
      if (!im) throw new CocoError(`no image with id ${id}`);
      return im;
    });
  }

  /**
   * A result set built from a detection list (pycocotools' loadRes): ids 1..N in list order, iscrowd 0;
   * box results get `area = w·h` (and a box polygon as segmentation); mask results get `area` and `bbox`
   * from their RLE; keypoint results (`keypoints` without `bbox` or `segmentation`) get the extent of their points
   * as `bbox` and its area. The kind is decided by the first result, as in pycocotools.
   */
  loadRes(results: CocoResult[]): COCO {
    if (!Array.isArray(results)) throw new CocoError('results must be a list of detections');
    const known = new Set(this.imgs.keys());
    const unknown = [...new Set(results.map((r) => r?.image_id))].filter((id) => !known.has(id));
    if (unknown.length) {
      throw new CocoError(`results refer to image ids not in the ground truth: ${unknown.slice(0, 10).join(', ')}${unknown.length > 10 ? ', ...' : ''}`);
    }
    const images = [...(this.dataset.images ?? [])];
    const categories = structuredClone(this.dataset.categories ?? []);
    const first = results[0];
    const boxes = first !== undefined && Array.isArray(first.bbox) && first.bbox.length > 0;
    // pycocotools' order: box results, then mask results ('segmentation' in the first), then keypoint results.
    const masks = !boxes && first !== undefined && 'segmentation' in first;
    const anns: CocoAnnotation[] = results.map((r, i) => {
      const where = `result ${i} (image ${r.image_id})`;
      if (typeof r.score !== 'number') throw new CocoError(`${where} has no numeric 'score'`);
      if (typeof r.category_id !== 'number') throw new CocoError(`${where} has no numeric 'category_id'`);
      // Object.assign, not spread: V8 gives spread copies of parsed objects each their own hidden class, and
      // every later read of them (evaluate() reads each annotation) then takes the slow, megamorphic path.
      const ann: CocoAnnotation = Object.assign({}, r, { id: i + 1, iscrowd: 0 });
      if (boxes) {
        const bb = r.bbox;
        if (!Array.isArray(bb) || bb.length !== 4) throw new CocoError(`${where} has no 'bbox' [x, y, w, h] (the first result has one, so all must)`);
        const [x1, y1] = [bb[0], bb[1]];
        const [x2, y2] = [bb[0] + bb[2], bb[1] + bb[3]];
        if (!('segmentation' in r)) ann.segmentation = [[x1, y1, x1, y2, x2, y2, x2, y1]];
        ann.area = bb[2] * bb[3];
      } else if (masks) {
        const seg = r.segmentation as RLE | UncompressedRLE | undefined;
        if (!seg || Array.isArray(seg) || !('counts' in seg)) throw new CocoError(`${where} has neither 'bbox' nor an RLE 'segmentation'`);
        // Read once for both numbers, in room of the shared run block that is given back at once.
        const mark = countsMark();
        try {
          const runs = fromRLE(seg);
          ann.area = runsArea(runs);
          if (!('bbox' in r)) ann.bbox = runsToBbox(runs);
        } finally {
          countsRelease(mark);
        }
      } else if (first !== undefined) {
        // Keypoint results: area and bbox from the points' extent, as pycocotools' loadRes.
        const kps = r.keypoints;
        if (!Array.isArray(kps) || kps.length < 3 || kps.some((v) => typeof v !== 'number'))
          throw new CocoError(`${where} has neither 'bbox', an RLE 'segmentation' nor 'keypoints' [x, y, v, ...]`);
        let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
        for (let j = 0; j + 1 < kps.length; j += 3) {
          x0 = Math.min(x0, kps[j]);
          x1 = Math.max(x1, kps[j]);
          y0 = Math.min(y0, kps[j + 1]);
          y1 = Math.max(y1, kps[j + 1]);
        }
        ann.area = (x1 - x0) * (y1 - y0);
        ann.bbox = [x0, y0, x1 - x0, y1 - y0];
      }
      return ann;
    });
    return new COCO({ images, categories, annotations: anns });
  }

  /** An annotation's segmentation as one RLE (polygons rasterised and merged; uncompressed RLE compressed). */
  annToRLE(ann: CocoAnnotation): RLE {
    const m = this.segmentationOf(ann)!;
    return 'cnts' in m ? toRLE(m) : m;
  }

  /** The annotation's mask as run lengths: what annToRLE encodes, with the same checks, without the string. */
  annToRuns(ann: CocoAnnotation): Runs {
    const m = this.segmentationOf(ann)!;
    return 'cnts' in m ? m : fromRLE(m);
  }

  /** Throws what annToRuns would for this annotation, without rasterising its polygons. */
  checkSegmentation(ann: CocoAnnotation): void {
    this.segmentationOf(ann, false);
  }

  /**
   * A compressed RLE as the annotation has it, or the runs of its polygons / uncompressed RLE; with `read` false
   * only the checks (polygons are not rasterised; null).
   */
  private segmentationOf(ann: CocoAnnotation, read = true): RLE | Runs | null {
    const img = this.imgs.get(ann.image_id);
    if (!img) throw new CocoError(`annotation ${ann.id}: image ${ann.image_id} is not in the dataset`);
    const segm = ann.segmentation;
    if (Array.isArray(segm)) {
      if (segm.length === 0) throw new CocoError(`annotation ${ann.id}: 'segmentation' is an empty polygon list`);
      if (Array.isArray(segm[0]) && segm[0].length === 4) {
        // pycocotools passes a list whose first part has 4 numbers to frBbox, which refuses a Python list.
        throw new CocoError(
          `annotation ${ann.id}: 'segmentation' starts with a part of 4 numbers, which pycocotools 2.0.11 reads as boxes and refuses for a list (TypeError: Argument 'bb' has incorrect type); give each polygon at least 3 points`,
        );
      }
      try {
        // pycocotools' annToRLE: frPyObjects on the list (refusing what 2.0.11 raises for), then merge.
        if (!read) return pyObjectKind(segm as Polygon[]) && null;
        const parts = frPyObjectsRuns(segm as Polygon[], img.height, img.width) as Runs[];
        return parts.length === 1 ? parts[0] : mergeRuns(parts); // (merge would copy a single part)
      } catch (e) {
        throw new CocoError(`annotation ${ann.id}: ${(e as Error).message}`);
      }
    }
    if (segm && typeof segm === 'object' && 'counts' in segm && Array.isArray(segm.size)) {
      if (Array.isArray(segm.counts)) {
        try {
          return frPyObjectsRuns(segm as UncompressedRLE, img.height, img.width) as Runs;
        } catch (e) {
          throw new CocoError(`annotation ${ann.id}: ${(e as Error).message}`);
        }
      }
      if (typeof segm.counts === 'string') return segm as RLE;
    }
    throw new CocoError(`annotation ${ann.id}: 'segmentation' is neither a polygon list nor an RLE {size, counts}`);
  }

  /** An annotation's binary mask (row-major). */
  annToMask(ann: CocoAnnotation): Mask {
    return decode(this.annToRLE(ann));
  }
}
