#!/usr/bin/env python3
"""Writes a LightGBM text model (the format of Booster.save_model('m.txt')) for features in the import template's
layout, with LightGBM's own prediction rules applied to every row.

LightGBM is not packaged for Debian here, so this cannot ask LightGBM to train one. Instead it grows random
trees (splits at data quantiles, category sets on categorical inputs, every missing-value type and default
direction LightGBM writes) in the documented text format, and evaluates them with an independent reading of
LightGBM's rules (include/LightGBM/tree.h: NumericalDecision, CategoricalDecision):
  - numeric: missing type None reads NaN as 0; NaN type sends NaN the default-left way; x <= threshold goes left;
  - categorical: NaN and negative codes go right; codes whose bit is set in the node's cat_threshold words go left;
  - children >= 0 are internal nodes, < 0 are leaf ~child; the prediction is the sum of leaf values.
The round-trip test compares Appraise's import of the file with these predictions.

Usage: write-lightgbm-fixture.py --template T.json --features all.csv --model m.txt --predictions pred.txt
         [--trees 30 --leaves 8 --seed 7]
"""
import argparse
import json
import math
import random

import numpy as np


def read_csv(path):
    with open(path) as f:
        header = f.readline().rstrip('\n').split(',')
    data = np.genfromtxt(path, delimiter=',', skip_header=1, dtype=np.float64, filling_values=np.nan)
    return header, data


def grow_tree(rng, X, kinds, n_levels, n_leaves, mean_target):
    """A random tree in LightGBM's arrays: internal nodes 0..n_leaves-2, leaves 0..n_leaves-1."""
    nodes = []  # dicts: feature, threshold, decision_type, left, right, cat (list of codes) or None
    leaves = []
    cat_sets = []

    def new_leaf():
        # The first tree carries the starting score (boost_from_average) in every leaf, as LightGBM writes it.
        leaves.append(mean_target + rng.uniform(-0.05, 0.05))
        return ~(len(leaves) - 1)

    # Grow by splitting a random leaf until n_leaves.
    root_leaf = new_leaf()
    frontier = [(None, None, root_leaf)]  # (parent node, side, leaf id)
    root = root_leaf
    while len(leaves) < n_leaves:
        parent, side, leaf_ref = frontier.pop(rng.randrange(len(frontier)))
        f = rng.randrange(X.shape[1])
        node = {'feature': f}
        if kinds[f] == 'categorical':
            k = n_levels[f]
            members = sorted(rng.sample(range(k), max(1, k // 3)))
            node['cat'] = members
            node['threshold'] = len(cat_sets)
            cat_sets.append(members)
            node['decision_type'] = 1
        else:
            col = X[:, f]
            col = col[~np.isnan(col)]
            t = float(np.quantile(col, rng.uniform(0.1, 0.9)))
            # Thresholds between data values, as LightGBM writes them, and sometimes exactly on one.
            if rng.random() < 0.5:
                t = t + 1e-7 * max(1.0, abs(t))
            node['threshold'] = t
            missing_type = rng.choice([0, 2])  # None, NaN (Zero is refused by Appraise unless trivial)
            default_left = rng.random() < 0.5
            node['decision_type'] = (missing_type << 2) | (2 if default_left else 0)
        node['cat'] = node.get('cat')
        idx = len(nodes)
        nodes.append(node)
        # The split leaf keeps its value on the left; a new leaf goes right.
        node['left'] = leaf_ref
        node['right'] = new_leaf()
        if parent is None:
            root = idx
        else:
            parent[side] = idx
        frontier.append((node, 'left', node['left']))
        frontier.append((node, 'right', node['right']))
    assert root == 0
    return nodes, leaves, cat_sets


def bitset(members):
    words = [0] * (max(members) // 32 + 1)
    for c in members:
        words[c // 32] |= 1 << (c % 32)
    return words


def decide(node, cat_words, x):
    f = node['feature']
    v = x[f]
    if node['decision_type'] & 1:
        if math.isnan(v) or int(v) < 0:
            return node['right']
        words = cat_words[node['threshold']]
        c = int(v)
        if c // 32 < len(words) and (words[c // 32] >> (c % 32)) & 1:
            return node['left']
        return node['right']
    missing_type = (node['decision_type'] >> 2) & 3
    if math.isnan(v) and missing_type != 2:
        v = 0.0
    if missing_type == 2 and math.isnan(v):
        return node['left'] if node['decision_type'] & 2 else node['right']
    return node['left'] if v <= node['threshold'] else node['right']


def predict(tree, x):
    nodes, leaves, cat_words = tree
    i = 0
    while i >= 0:
        i = decide(nodes[i], cat_words, x)
    return leaves[~i]


def fmt(v):
    return repr(float(v))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--template', required=True)
    ap.add_argument('--features', required=True)
    ap.add_argument('--model', required=True)
    ap.add_argument('--predictions', required=True)
    ap.add_argument('--trees', type=int, default=30)
    ap.add_argument('--leaves', type=int, default=8)
    ap.add_argument('--seed', type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    with open(args.template) as f:
        template = json.load(f)
    names = [i['name'] for i in template['inputs']]
    kinds = [i['kind'] for i in template['inputs']]
    n_levels = [len(i.get('levels') or []) for i in template['inputs']]
    header, data = read_csv(args.features)
    X = data[:, : len(names)].astype(np.float32).astype(np.float64)
    y = data[:, len(names)]
    mean_target = float(np.nanmean(y))

    trees = []
    blocks = []
    for t in range(args.trees):
        nodes, leaves, cat_sets = grow_tree(rng, X, kinds, n_levels, args.leaves, mean_target if t == 0 else 0.0)
        cat_words = [bitset(s) for s in cat_sets]
        trees.append((nodes, leaves, cat_words))
        boundaries = [0]
        flat = []
        for w in cat_words:
            flat += w
            boundaries.append(len(flat))
        n_int = len(nodes)
        lines = [
            f'Tree={t}',
            f'num_leaves={len(leaves)}',
            f'num_cat={len(cat_sets)}',
            'split_feature=' + ' '.join(str(n['feature']) for n in nodes),
            'split_gain=' + ' '.join('1' for _ in nodes),
            'threshold=' + ' '.join(str(n['threshold']) if n['decision_type'] & 1 else fmt(n['threshold']) for n in nodes),
            'decision_type=' + ' '.join(str(n['decision_type']) for n in nodes),
            'left_child=' + ' '.join(str(n['left']) for n in nodes),
            'right_child=' + ' '.join(str(n['right']) for n in nodes),
            'leaf_value=' + ' '.join(fmt(v) for v in leaves),
            'leaf_weight=' + ' '.join(str(10 + k) for k in range(len(leaves))),
            'leaf_count=' + ' '.join(str(10 + k) for k in range(len(leaves))),
            'internal_value=' + ' '.join('0' for _ in range(n_int)),
            'internal_weight=' + ' '.join('0' for _ in range(n_int)),
            'internal_count=' + ' '.join('0' for _ in range(n_int)),
        ]
        if cat_sets:
            lines += ['cat_boundaries=' + ' '.join(map(str, boundaries)), 'cat_threshold=' + ' '.join(map(str, flat))]
        lines += ['is_linear=0', 'shrinkage=0.1', '', '']
        blocks.append('\n'.join(lines))
    # Covers must be consistent for TreeSHAP: internal weights are the sums of their leaves' weights.
    blocks = [fix_internal_weights(b) for b in blocks]
    head = [
        'tree',
        'version=v4',
        'num_class=1',
        'num_tree_per_iteration=1',
        'label_index=0',
        f'max_feature_idx={len(names) - 1}',
        'objective=regression',
        'feature_names=' + ' '.join(names),
        'feature_infos=' + ' '.join('none' for _ in names),
        'tree_sizes=' + ' '.join(str(len(b)) for b in blocks),
        '',
    ]
    with open(args.model, 'w') as f:
        f.write('\n'.join(head) + '\n' + ''.join(blocks) + 'end of trees\n\nparameters:\n[boosting: gbdt]\nend of parameters\n')
    preds = [sum(predict(tr, X[r]) for tr in trees) for r in range(X.shape[0])]
    np.savetxt(args.predictions, np.array(preds), fmt='%.17g')


def fix_internal_weights(block):
    fields = dict(line.split('=', 1) for line in block.split('\n') if '=' in line)
    left = list(map(int, fields['left_child'].split()))
    right = list(map(int, fields['right_child'].split()))
    leaf_w = list(map(float, fields['leaf_weight'].split()))

    def weight(c):
        return leaf_w[~c] if c < 0 else weight(left[c]) + weight(right[c])

    w = ' '.join(repr(weight(i)) for i in range(len(left)))
    out = []
    for line in block.split('\n'):
        if line.startswith('internal_weight=') or line.startswith('internal_count='):
            line = line.split('=', 1)[0] + '=' + w
        out.append(line)
    return '\n'.join(out)


if __name__ == '__main__':
    main()
