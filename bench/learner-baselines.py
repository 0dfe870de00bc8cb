"""Baselines for the learner benches, run by /usr/bin/python3 (Debian python3-xgboost, python3-sklearn).

The Node bench writes the exact matrix it trains on to DIR (X.f32 row-major, y.f64, fold.i32, meta.json), so both
sides see identical features, missing values, categorical codes and folds.

  learner-baselines.py cv DIR MODEL      pooled out-of-fold RMSE; MODEL = xgb (hist, depth 6, eta 0.05, 1000 rounds)
                                         or hgb (sklearn HistGradientBoosting, 1000 iter, lr 0.05), hgb-default
                                         (its defaults), xgb-es (early-stopped on 10 % of the training rows)
  learner-baselines.py train DIR THREADS ROUNDS DEPTH [REPEATS]
                                         XGBoost hist training wall time on rows with fold != 0 (median of REPEATS)
Prints one JSON object on stdout.
"""
import json
import sys
import time

import numpy as np


def load(d):
    meta = json.load(open(f"{d}/meta.json"))
    n, m = meta["nRows"], meta["nFeatures"]
    X = np.fromfile(f"{d}/X.f32", dtype=np.float32).reshape(n, m)
    y = np.fromfile(f"{d}/y.f64", dtype=np.float64)
    fold = np.fromfile(f"{d}/fold.i32", dtype=np.int32)
    cat = [k == "categorical" for k in meta["featureKinds"]]
    return X, y, fold, cat


def xgb_train(X, y, cat, threads, rounds, depth):
    import xgboost as xgb
    dtrain = xgb.DMatrix(X, label=y, feature_types=["c" if c else "q" for c in cat], enable_categorical=True, nthread=threads)
    params = {"tree_method": "hist", "max_depth": depth, "eta": 0.05, "nthread": threads, "max_cat_to_onehot": 1, "objective": "reg:squarederror"}
    return xgb.train(params, dtrain, rounds), xgb


def main():
    mode, d = sys.argv[1], sys.argv[2]
    X, y, fold, cat = load(d)
    if mode == "cv":
        model = sys.argv[3]
        pred = np.zeros_like(y)
        t0 = time.time()
        for k in sorted(set(fold.tolist())):
            tr, te = fold != k, fold == k
            if model == "xgb":
                # One thread: accuracy does not depend on it, and OpenMP spinning collapses on a shared, loaded machine.
                booster, xgb = xgb_train(X[tr], y[tr], cat, 1, 1000, 6)
                pred[te] = booster.predict(xgb.DMatrix(X[te], feature_types=["c" if c else "q" for c in cat], enable_categorical=True))
            elif model == "xgb-es":
                # Early-stopped XGBoost: 10 % of the fold's training rows (seeded) as the stopping set, up to 5000 rounds.
                import xgboost as xgb
                idx = np.flatnonzero(tr)
                rng = np.random.default_rng(0)
                rng.shuffle(idx)
                cut = max(1, len(idx) // 10)
                ft = ["c" if c else "q" for c in cat]
                dfit = xgb.DMatrix(X[idx[cut:]], label=y[idx[cut:]], feature_types=ft, enable_categorical=True, nthread=1)
                dval = xgb.DMatrix(X[idx[:cut]], label=y[idx[:cut]], feature_types=ft, enable_categorical=True, nthread=1)
                params = {"tree_method": "hist", "max_depth": 6, "eta": 0.05, "nthread": 1, "max_cat_to_onehot": 1, "objective": "reg:squarederror"}
                booster = xgb.train(params, dfit, 5000, evals=[(dval, "val")], early_stopping_rounds=50, verbose_eval=False)
                dte = xgb.DMatrix(X[te], feature_types=ft, enable_categorical=True)
                pred[te] = booster.predict(dte, iteration_range=(0, booster.best_iteration + 1))
            else:
                from sklearn.ensemble import HistGradientBoostingRegressor
                if model == "hgb-default":
                    # scikit-learn's own defaults (100 iterations at lr 0.1, early stopping above 10,000 rows).
                    m = HistGradientBoostingRegressor(categorical_features=np.array(cat), random_state=0)
                else:
                    m = HistGradientBoostingRegressor(max_iter=1000, learning_rate=0.05, categorical_features=np.array(cat), random_state=0)
                m.fit(X[tr], y[tr])
                pred[te] = m.predict(X[te])
        print(json.dumps({"rmse": float(np.sqrt(np.mean((pred - y) ** 2))), "seconds": time.time() - t0}))
    elif mode == "train":
        threads, rounds, depth = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
        repeats = int(sys.argv[6]) if len(sys.argv) > 6 else 1
        tr = fold != 0
        times = []
        for _ in range(repeats):
            t0 = time.time()
            xgb_train(X[tr], y[tr], cat, threads, rounds, depth)
            times.append(time.time() - t0)
        import resource
        print(json.dumps({"seconds": float(np.median(times)), "all": times, "peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


main()
