import { describe, test, expect } from 'vitest';
import { convertXgboost, float32Below, parseXgboostJson } from './xgboost-model.js';
import { predictRaw } from '../learner/model/tree-model.js';
import { FastTreePredictor } from '../learner/model/fast-predictor.js';

/**
 * A hand-written XGBoost 1.7 JSON model (the layout `Booster.save_model('m.json')` writes), with the expected
 * outputs worked out from XGBoost's rules, not from the converter: numeric `x < t` goes left, missing follows
 * default_left, a categorical node's listed categories go RIGHT. Needs no Python, unlike test/interop-xgboost.test.ts.
 *
 * Tree 0, on feature 0 (numeric):      node 0: x0 < 1.5 (missing → right); leaves 1 (−1) and 2 (+2).
 *   Node 3 is a deleted node XGBoost left in the arrays: unreachable, must not matter.
 * Tree 1, on feature 1 (category codes): node 0: code in {1, 3} → right (leaf 2: +10), else left (leaf 1: +20);
 *   missing → left (default_left = 1). XGBoost writes NaN as the split condition of a categorical node.
 */
const MODEL = `{
  "learner": {
    "feature_names": ["area", "zone"],
    "feature_types": ["q", "c"],
    "learner_model_param": { "base_score": "1E2", "num_class": "0", "num_feature": "2", "num_target": "1" },
    "objective": { "name": "reg:squarederror", "reg_loss_param": { "scale_pos_weight": "1" } },
    "gradient_booster": {
      "name": "gbtree",
      "model": {
        "gbtree_model_param": { "num_parallel_tree": "1", "num_trees": "2" },
        "tree_info": [0, 0],
        "trees": [
          {
            "left_children": [1, -1, -1, -1], "right_children": [2, -1, -1, -1],
            "split_indices": [0, 0, 0, 0], "split_conditions": [1.5, -1, 2, 99],
            "default_left": [0, 0, 0, 0], "sum_hessian": [10, 4, 6, 0], "split_type": [0, 0, 0, 0],
            "categories": [], "categories_nodes": [], "categories_segments": [], "categories_sizes": [],
            "tree_param": { "num_nodes": "4", "num_deleted": "1", "num_feature": "2", "size_leaf_vector": "0" }
          },
          {
            "left_children": [1, -1, -1], "right_children": [2, -1, -1],
            "split_indices": [1, 0, 0], "split_conditions": [NaN, 20, 10],
            "default_left": [1, 0, 0], "sum_hessian": [10, 7, 3], "split_type": [1, 0, 0],
            "categories": [1, 3], "categories_nodes": [0], "categories_segments": [0], "categories_sizes": [2],
            "tree_param": { "num_nodes": "3", "num_deleted": "0", "num_feature": "2", "size_leaf_vector": "0" }
          }
        ]
      }
    }
  },
  "version": [1, 7, 4]
}`;

const inputs = { names: ['area', 'zone'], kinds: ['numeric', 'categorical'] as const, categoryCounts: [0, 5] };
const convert = (text = MODEL) => convertXgboost(parseXgboostJson(text, 'm.json'), 'm.json', { ...inputs, kinds: [...inputs.kinds] });

describe('XGBoost JSON → TreeEnsemble', () => {
  test('predictions follow XGBoost’s rules for thresholds, missing values and category sets', () => {
    const { ensemble, fileFeatureNames, producer } = convert();
    expect(fileFeatureNames).toEqual(['area', 'zone']);
    expect(producer).toBe('xgboost 1.7.4');
    const below = Math.fround(1.5) - 2 ** -23; // the float32 just below 1.5
    const cases: [number, number, number][] = [
      // [area, zone, expected = 100 + tree0 + tree1]
      [1.5, 0, 100 + 2 + 20], // 1.5 < 1.5 is false: right; zone 0 not in {1,3}: left
      [below, 1, 100 - 1 + 10], // just below the threshold: left; zone 1 in the set: right
      [NaN, 3, 100 + 2 + 10], // missing area: default right
      [-7, NaN, 100 - 1 + 20], // missing zone: default left
      [2, 4, 100 + 2 + 20],
    ];
    const fast = new FastTreePredictor(ensemble);
    for (const [a, z, want] of cases) {
      expect(predictRaw(ensemble, [a, z])).toBe(want);
      expect(fast.predictRow(Float32Array.of(a, z))).toBe(want);
    }
    // The deleted node is dropped, covers are the hessian sums (TreeSHAP's weights).
    expect(ensemble.trees[0].feature).toHaveLength(3);
    expect(ensemble.trees[0].cover).toEqual([10, 4, 6]);
  });

  test('float32Below gives the largest float32 under the value, across signs and zero', () => {
    expect(float32Below(1.5)).toBe(1.5 - 2 ** -23);
    expect(float32Below(-1.5)).toBe(-(1.5 + 2 ** -23));
    expect(float32Below(0)).toBe(-(2 ** -149));
    expect(float32Below(2 ** -149)).toBe(0);
  });

  test('what cannot be represented is refused by name', () => {
    const edit = (from: string, to: string) => () => convert(MODEL.replace(from, to));
    expect(edit('"name": "reg:squarederror"', '"name": "binary:logistic"')).toThrow(/objective binary:logistic/);
    expect(edit('"name": "reg:squarederror"', '"name": "count:poisson"')).toThrow(/objective count:poisson/);
    expect(edit('"name": "gbtree"', '"name": "dart"')).toThrow(/DART model/);
    expect(edit('"name": "gbtree"', '"name": "gblinear"')).toThrow(/gblinear booster/);
    expect(edit('"num_class": "0"', '"num_class": "3"')).toThrow(/3 outputs/);
    expect(edit('"tree_info": [0, 0]', '"tree_info": [0, 1]')).toThrow(/several output groups/);
    expect(edit('"categories": [1, 3]', '"categories": [1, 7]')).toThrow(/category code 7, outside the template's 5 levels/);
    expect(() => convertXgboost(parseXgboostJson(MODEL, 'm.json'), 'm.json', { ...inputs, kinds: ['numeric', 'numeric'] })).toThrow(
      /categorical split on 1, a numeric input/,
    );
    expect(() => parseXgboostJson('{"learner": {}}', 'x.json')).toThrow(/not an XGBoost JSON model/);
    expect(() => parseXgboostJson('not json', 'x.json')).toThrow(/is not JSON/);
  });
});
