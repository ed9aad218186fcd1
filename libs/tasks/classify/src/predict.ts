/**
 * The classification task's browser-safe predict entry (`@cv/tasks-classify/predict`): importing it
 * registers the classifier Predictor, so `loadPredictor(source)` answers for models whose metadata says
 * `task: 'classify'`. No Node imports.
 */
import { registerPredictor } from '@cv/engine/core';
import { registerRegularizationLayers } from '@cv/regularization';
import { ClassificationPredictor } from './predictor';

export * from './predictor';

registerPredictor('classify', (model) => new ClassificationPredictor(model), registerRegularizationLayers);
