/**
 * The sequence task's browser-safe predict entry (`@cv/tasks-sequence/predict`): importing it registers the
 * sequence Predictor for models whose metadata says `task: 'sequence'`. No Node imports.
 */
import { registerPredictor } from '@cv/engine/core';
import { registerSequenceLayers } from './layers';
import { SequencePredictor } from './predictor';

export * from './predictor';
export * from './sequences';
export { CausalPadding1D, DilatedCausalConv1D, MaskedGlobalAveragePooling1D, registerSequenceLayers } from './layers';

registerPredictor('sequence', (model) => new SequencePredictor(model), registerSequenceLayers);
