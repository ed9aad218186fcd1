import { MATCHING_DEFAULTS } from '@cv/tasks-detect/answer';
import type { WebTask } from './tasks';

/** The committed reports the Reports page shows (plots copied to /reports/<id>/ by scripts/prepare.ts). */
export interface ReportSource {
  id: string;
  title: string;
  task: WebTask;
  /** The shipped model's folder under models/ (its MODEL_CARD.md). */
  model: string;
  /** report.json, relative to the repository (none for the GAN). */
  report?: string;
  dirs: { from: string; to: string }[];
  /** `absent`: what the page says instead where the file was not written (an error gallery with no errors). */
  plots: { file: string; title: string; absent?: string }[];
}

export const REPORTS: ReportSource[] = [
  {
    id: 'shapes-detect',
    title: 'Shapes detector',
    task: 'detect',
    model: 'detect/shapes',
    report: 'docs/results/detect-report/report.json',
    dirs: [{ from: 'docs/results/detect-report/plots', to: 'plots' }],
    plots: [
      { file: 'plots/pr_curve.svg', title: 'Precision–recall per class (IoU 0.5)' },
      { file: 'plots/f1_curve.svg', title: 'F1 against the score threshold' },
      { file: 'plots/confusion_matrix.svg', title: `Confusion matrix (score ≥ ${MATCHING_DEFAULTS.conf}, IoU ≥ ${MATCHING_DEFAULTS.iou})` },
      {
        file: 'plots/false_positives.png',
        title: 'False positives, highest scores first',
        absent: `No false positives at score ≥ ${MATCHING_DEFAULTS.conf}, IoU ≥ ${MATCHING_DEFAULTS.iou}.`,
      },
      {
        file: 'plots/false_negatives.png',
        title: 'False negatives, largest first',
        absent: `No false negatives at score ≥ ${MATCHING_DEFAULTS.conf}, IoU ≥ ${MATCHING_DEFAULTS.iou}.`,
      },
    ],
  },
  {
    id: 'shapes-segment',
    title: 'Shapes U-Net',
    task: 'segment',
    model: 'segment/shapes',
    report: 'docs/results/segment-report/report.json',
    dirs: [{ from: 'docs/results/segment-report/plots', to: 'plots' }],
    plots: [
      { file: 'plots/per_class_iou.svg', title: 'IoU per class' },
      { file: 'plots/confusion_matrix.svg', title: 'Pixel confusion matrix' },
      { file: 'plots/worst_images.png', title: 'The images with the lowest mIoU' },
    ],
  },
  {
    id: 'fashion-mnist',
    title: 'Fashion-MNIST classifier',
    task: 'classify',
    model: 'classify/fashion-mnist',
    report: 'docs/results/classification/fashion-mnist/report.json',
    dirs: [{ from: 'docs/results/classification/fashion-mnist/plots', to: 'plots' }],
    plots: [
      { file: 'plots/training_curves.svg', title: 'Training curves' },
      { file: 'plots/confusion_matrix.svg', title: 'Confusion matrix (test split)' },
    ],
  },
  {
    id: 'mnist',
    title: 'MNIST classifier',
    task: 'classify',
    model: 'classify/mnist',
    report: 'docs/results/classification/mnist/report.json',
    dirs: [{ from: 'docs/results/classification/mnist/plots', to: 'plots' }],
    plots: [
      { file: 'plots/training_curves.svg', title: 'Training curves' },
      { file: 'plots/confusion_matrix.svg', title: 'Confusion matrix (test split)' },
    ],
  },
  {
    id: 'mnist-dcgan',
    title: 'MNIST DCGAN',
    task: 'dcgan',
    model: 'dcgan/mnist',
    dirs: [{ from: 'docs/results/dcgan', to: 'plots' }],
    plots: [
      { file: 'plots/shipped-metrics.png', title: 'Training metrics' },
      { file: 'plots/shipped-epoch80-grid.png', title: 'Samples after 80 epochs' },
      { file: 'plots/shipped-interpolation.png', title: 'Latent interpolation' },
    ],
  },
];

/** pycocotools' names of the 12 summary stats. */
export const COCO_STAT_NAMES = [
  'AP @[IoU=0.50:0.95 | area=all | maxDets=100]',
  'AP @[IoU=0.50 | area=all | maxDets=100]',
  'AP @[IoU=0.75 | area=all | maxDets=100]',
  'AP @[IoU=0.50:0.95 | area=small | maxDets=100]',
  'AP @[IoU=0.50:0.95 | area=medium | maxDets=100]',
  'AP @[IoU=0.50:0.95 | area=large | maxDets=100]',
  'AR @[IoU=0.50:0.95 | area=all | maxDets=1]',
  'AR @[IoU=0.50:0.95 | area=all | maxDets=10]',
  'AR @[IoU=0.50:0.95 | area=all | maxDets=100]',
  'AR @[IoU=0.50:0.95 | area=small | maxDets=100]',
  'AR @[IoU=0.50:0.95 | area=medium | maxDets=100]',
  'AR @[IoU=0.50:0.95 | area=large | maxDets=100]',
];
