/**
 * `--imgsz auto` (the default): the detector's input size chosen from the data and the budget. Letterboxing a
 * 320-px image to 160 halves every object, and small objects are what a detector loses first; but each input
 * pixel costs training time, and with `--time` a larger input buys fewer epochs. The rule:
 *
 * - the data's size: the median longer side of the training images, rounded up to a multiple of 32 (the
 *   detector's largest stride), between 64 and 640 — images are never upscaled past what they hold;
 * - the budget (`--time` > 0 only): no larger than the size at which the budget still fits `MIN_EPOCHS` epochs,
 *   estimated from the default detector's training speed at 160² (`REFERENCE_IMG_PER_S`, measured on 2 cores:
 *   docs/results/tta.md) scaled by the pixel count, and never below 160 on that account.
 *
 * Depends only on the data and `--time`, so every replica and a resumed run choose the same size.
 */

/** The default detector's training images per second at 160², 2 cores (bench:tta, validation included). */
export const REFERENCE_IMG_PER_S = 64;
/** Epochs a `--time` budget should still fit at the chosen size. */
export const MIN_EPOCHS = 10;
const [LO, HI, STRIDE, FLOOR] = [64, 640, 32, 160];

export interface ImgszChoice {
  imgsz: number;
  /** One line for the run's summary: what the size came from. */
  reason: string;
}

const ceil32 = (v: number) => Math.ceil(v / STRIDE) * STRIDE;

/** Estimated epochs of `trainImages` images at `imgsz` in `minutes`. */
export function epochsAt(imgsz: number, trainImages: number, minutes: number): number {
  return (minutes * 60 * REFERENCE_IMG_PER_S * (160 / imgsz) ** 2) / Math.max(1, trainImages);
}

/** The input size for a training set (`sizes`: each image's width and height) and an optional budget in minutes. */
export function chooseImgsz(sizes: { width: number; height: number }[], minutes?: number): ImgszChoice {
  if (!sizes.length) return { imgsz: FLOOR, reason: `imgsz ${FLOOR} (no training images to measure)` };
  const longer = sizes.map((s) => Math.max(s.width, s.height)).sort((a, b) => a - b);
  const median = longer[Math.floor(longer.length / 2)];
  const native = Math.min(HI, Math.max(LO, ceil32(median)));
  let imgsz = native;
  let why = `median longer side ${median} px`;
  if (minutes !== undefined && minutes > 0) {
    let cap = native;
    while (cap > FLOOR && epochsAt(cap, sizes.length, minutes) < MIN_EPOCHS) cap -= STRIDE;
    if (cap < native) {
      imgsz = cap;
      why += `; a ${minutes}-min budget fits ~${epochsAt(cap, sizes.length, minutes).toFixed(0)} epochs of ${sizes.length} images at ${cap} (${epochsAt(native, sizes.length, minutes).toFixed(0)} at ${native})`;
    }
  }
  return { imgsz, reason: `imgsz ${imgsz} (auto: ${why})` };
}
