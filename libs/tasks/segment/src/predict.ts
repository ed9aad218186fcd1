/**
 * The segmentation task's browser-safe predict entry (`@cv/tasks-segment/predict`): importing it registers
 * the segmenter Predictor, so `loadPredictor(source)` answers for models whose metadata says `task: 'segment'`.
 */
import { registerPredictor } from '@cv/engine/core';
import { SegmentationPredictor } from './predictor';

export * from './predictor';

registerPredictor('segment', (model) => new SegmentationPredictor(model));
