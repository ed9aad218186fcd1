/**
 * The detection task's browser-safe predict entry (`@cv/tasks-detect/predict`): importing it registers the
 * detector Predictor, so `loadPredictor(source)` answers for models whose metadata says `task: 'detect'`.
 */
import { registerPredictor } from '@cv/engine/core';
import { DetectionPredictor } from './predictor';

export * from './predictor';
export * from './boxes';
export * from './matching';
export * from './defaults';
export * from './answer';
export * from './refilter';

registerPredictor('detect', (model) => new DetectionPredictor(model));
