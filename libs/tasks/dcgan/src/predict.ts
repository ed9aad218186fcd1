/**
 * The GAN task's browser-safe predict entry (`@cv/tasks-dcgan/predict`): importing it registers the
 * generator Predictor, so `loadPredictor(source)` answers for models whose metadata says `task: 'dcgan'`.
 * No Node imports.
 */
import { registerPredictor } from '@cv/engine/core';
import { GanPredictor } from './predictor';

export * from './predictor';
export * from './sampling';

registerPredictor('dcgan', (model) => new GanPredictor(model));
