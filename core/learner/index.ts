/** The learner's public surface: train, predict fast, explain. Everything else in this folder is internal. */
export { trainGbdt, type TrainGbdtOptions, type TrainGbdtResult, type TrainingProgress } from './gbdt-trainer.js';
export { DEFAULT_GBDT_PARAMS, resolveGbdtParams, type GbdtParams } from './gbdt-params.js';
export type { TrainingData } from './training-data.js';
export type { LossName } from './losses.js';
export { FastTreePredictor } from './fast-predictor.js';
export { TreeShapExplainer, expectedValue, type ShapExplanation } from './tree-shap.js';
export { predictRaw, leafIndex, type TreeEnsemble, type SerializedTree, type FeatureKind } from './tree-model.js';
