import { describe, test, expect } from 'vitest';
import { convertLightgbm } from './lightgbm-model.js';
import { predictRaw } from '../learner/model/tree-model.js';

/**
 * A hand-written LightGBM text model, expected values worked out from LightGBM's rules (tree.h), not from the
 * converter. Tree 0: node 0 splits area (feature 0) at 1.5, `x <= t` left, decision_type 10 = NaN missing type
 * (8) + default left (2); left is node 1, a categorical split (decision_type 1) on zone (feature 1) with set 0 =
 * bitset word 0b1010 = {1, 3} going left (leaf 0: 5), others and NaN right (leaf 1: 7); node 0's right is leaf 2 (11).
 * Tree 1: a single leaf (0.5). Threshold 1.5000000001 is not a float32: x = 1.5 goes left in double.
 */
const MODEL = (edit: (s: string) => string = (s) => s) =>
  edit(`tree
version=v4
num_class=1
num_tree_per_iteration=1
label_index=0
max_feature_idx=1
objective=regression
feature_names=area zone
feature_infos=[0:10] 0:1:2:3:4

Tree=0
num_leaves=3
num_cat=1
split_feature=0 1
split_gain=1 1
threshold=1.5000000001 0
decision_type=10 1
left_child=1 -1
right_child=-3 -2
leaf_value=5 7 11
leaf_weight=3 4 5
leaf_count=3 4 5
internal_value=0 0
internal_weight=12 7
internal_count=12 7
cat_boundaries=0 1
cat_threshold=10
is_linear=0
shrinkage=0.1


Tree=1
num_leaves=1
num_cat=0
split_feature=
split_gain=
threshold=
decision_type=
left_child=
right_child=
leaf_value=0.5
leaf_weight=12
leaf_count=12
internal_value=
internal_weight=
internal_count=
is_linear=0
shrinkage=1


end of trees

parameters:
[boosting: gbdt]
end of parameters
`);

const inputs = { names: ['area', 'zone'], kinds: ['numeric' as const, 'categorical' as const], categoryCounts: [0, 5] };

describe('LightGBM text → TreeEnsemble', () => {
  test('predictions follow LightGBM’s rules', () => {
    const { ensemble, fileFeatureNames, producer } = convertLightgbm(MODEL(), 'm.txt', inputs);
    expect(fileFeatureNames).toEqual(['area', 'zone']);
    expect(producer).toBe('lightgbm v4');
    const cases: [number, number, number][] = [
      [1.5, 1, 5.5], // 1.5 <= 1.5000000001: left; zone 1 in {1, 3}: left
      [1.5, 2, 7.5], // zone 2 not in the set: right
      [1.5000002, 3, 11.5], // the next float32 above the threshold: right
      [NaN, 3, 5.5], // NaN missing type, default left
      [0, NaN, 7.5], // missing zone: right
    ];
    for (const [a, z, want] of cases) expect(predictRaw(ensemble, [a, z])).toBe(want);
    expect(ensemble.trees[0].cover).toEqual([12, 7, 3, 4, 5]);
  });

  test('missing type None reads NaN as 0; Zero is accepted only where 0 goes the default way anyway', () => {
    // decision_type 0: None. NaN → 0 → 0 <= 1.5 → left.
    const none = convertLightgbm(
      MODEL((s) => s.replace('decision_type=10 1', 'decision_type=0 1')),
      'm.txt',
      inputs,
    );
    expect(predictRaw(none.ensemble, [NaN, 2])).toBe(7.5);
    // decision_type 4 | 2: Zero missing type, default left: 0 goes left anyway → representable.
    const zeroLeft = convertLightgbm(
      MODEL((s) => s.replace('decision_type=10 1', 'decision_type=6 1')),
      'm.txt',
      inputs,
    );
    expect(predictRaw(zeroLeft.ensemble, [NaN, 2])).toBe(7.5);
    expect(() =>
      convertLightgbm(
        MODEL((s) => s.replace('decision_type=10 1', 'decision_type=4 1')),
        'm.txt',
        inputs,
      ),
    ).toThrow(/zero_as_missing/);
  });

  test('what cannot be represented is refused by name', () => {
    const bad = (from: string, to: string) => () =>
      convertLightgbm(
        MODEL((s) => s.replace(from, to)),
        'm.txt',
        inputs,
      );
    expect(bad('objective=regression', 'objective=poisson')).toThrow(/objective "poisson"/);
    expect(bad('objective=regression', 'objective=binary sigmoid:1')).toThrow(/objective "binary"/);
    expect(bad('num_class=1', 'num_class=3')).toThrow(/3 outputs/);
    expect(bad('label_index=0', 'label_index=0\naverage_output')).toThrow(/random forest/);
    expect(bad('is_linear=0\nshrinkage=0.1', 'is_linear=1\nshrinkage=0.1')).toThrow(/linear trees/);
    expect(bad('cat_threshold=10', 'cat_threshold=64')).toThrow(/category code 6, outside the template's 5 levels/);
    expect(() => convertLightgbm('{"learner": 1}', 'm.txt', inputs)).toThrow(/not a LightGBM text model/);
  });
});
