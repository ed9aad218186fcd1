// Case study — segmentation: the shipped U-Net on the same fresh image; per-class pixel share and IoU against the truth.
import { makeShapesImage } from '@cv/data';
import { initBackend, loadPredictor } from '@cv/engine';
import '@cv/tasks-segment/predict'; // registers the segment Predictor
import type { SegmentationPredictor } from '@cv/tasks-segment/predict';

await initBackend({ log: false });
const segmenter = (await loadPredictor('models/segment/shapes')) as SegmentationPredictor;
const image = makeShapesImage(11, 0);
const [r] = segmenter.predict([{ data: image.pixels, width: 160, height: 160, channels: 3 }]);
segmenter.metadata.classNames.forEach((name, c) => {
  let inter = 0;
  let union = 0;
  let truth = 0;
  for (let i = 0; i < r.mask.length; i++) {
    const p = r.mask[i] === c;
    const t = image.semantic[i] === c;
    if (t) truth++;
    if (p && t) inter++;
    if (p || t) union++;
  }
  const iou = union ? (inter / union).toFixed(3) : '—';
  console.log(
    `${name.padEnd(10)} predicted ${(100 * r.pixelShare[c]).toFixed(2).padStart(6)} % of pixels, truth ${((100 * truth) / r.mask.length).toFixed(2).padStart(6)} %, IoU ${iou}`,
  );
});
