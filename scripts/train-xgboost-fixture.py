#!/usr/bin/env python3
"""Trains a small XGBoost model on features written by `appraise models import-template --features-csv`.

This is what a data team does on its cluster, at laptop scale: the CSV's columns are the import template's inputs
in order (empty = missing) and the transformed target last; categorical inputs (per the template) are declared
categorical so XGBoost learns category splits on Appraise's codes.

Writes the model as XGBoost JSON (Booster.save_model) and XGBoost's own predictions and SHAP contributions, which
the round-trip test (test/interop-xgboost.test.ts) compares with the imported model.

Usage: train-xgboost-fixture.py --template T.json --train train.csv --predict all.csv --model m.json
         --predictions pred.csv [--contributions contrib.csv --contrib-rows 200] [--rounds 50 --depth 4]
"""
import argparse
import json

import numpy as np
import xgboost as xgb


def read_csv(path):
    with open(path) as f:
        header = f.readline().rstrip('\n').split(',')
    # Empty cells are missing values: genfromtxt fills them with NaN.
    data = np.genfromtxt(path, delimiter=',', skip_header=1, dtype=np.float64, filling_values=np.nan)
    if data.ndim == 1:
        data = data.reshape(1, -1)
    return header, data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--template', required=True)
    ap.add_argument('--train', required=True)
    ap.add_argument('--predict', required=True)
    ap.add_argument('--model', required=True)
    ap.add_argument('--predictions', required=True)
    ap.add_argument('--contributions')
    ap.add_argument('--contrib-rows', type=int, default=200)
    ap.add_argument('--rounds', type=int, default=50)
    ap.add_argument('--depth', type=int, default=4)
    ap.add_argument('--booster', default='gbtree')
    ap.add_argument('--objective', default='reg:squarederror')
    args = ap.parse_args()

    with open(args.template) as f:
        template = json.load(f)
    names = [i['name'] for i in template['inputs']]
    types = ['c' if i['kind'] == 'categorical' else 'q' for i in template['inputs']]

    header, train = read_csv(args.train)
    if header[: len(names)] != names:
        raise SystemExit(f'{args.train}: columns {header} do not start with the template inputs {names}')
    X = train[:, : len(names)].astype(np.float32)
    y = train[:, len(names)]
    dtrain = xgb.DMatrix(X, label=y, feature_names=names, feature_types=types, enable_categorical=True, missing=np.nan)
    params = {
        'objective': args.objective,
        'booster': args.booster,
        'tree_method': 'hist',
        'max_depth': args.depth,
        'eta': 0.1,
        'nthread': 2,
        'seed': 1,
        'max_cat_to_onehot': 1,
        # XGBoost 1.7 starts from 0.5 unless told; the mean of log price is where boosting should start.
        'base_score': float(np.mean(y)),
    }
    booster = xgb.train(params, dtrain, num_boost_round=args.rounds)
    booster.save_model(args.model)

    _, full = read_csv(args.predict)
    Xp = full[:, : len(names)].astype(np.float32)
    dpred = xgb.DMatrix(Xp, feature_names=names, feature_types=types, enable_categorical=True, missing=np.nan)
    pred = booster.predict(dpred)
    np.savetxt(args.predictions, pred, fmt='%.9g')
    if args.contributions:
        dsub = xgb.DMatrix(Xp[: args.contrib_rows], feature_names=names, feature_types=types, enable_categorical=True, missing=np.nan)
        # Last column is the bias (expected value); one row per sale.
        np.savetxt(args.contributions, booster.predict(dsub, pred_contribs=True), fmt='%.9g', delimiter=',')


if __name__ == '__main__':
    main()
