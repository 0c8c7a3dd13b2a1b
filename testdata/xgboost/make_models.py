#!/usr/bin/python3
"""Make the XGBoost test models of the classify package and XGBoost's own answers.

Run from anywhere with Debian's python3-xgboost 1.7.4 and python3-sklearn 1.2.1:

    /usr/bin/python3 testdata/xgboost/make_models.py

It writes, beside this script, for each model NAME:

    NAME.model      the native binary exactly as Booster.save_model writes it
                    (XGBoost 1.7: "binf" magic, class count in the learner header)
    NAME.json       classify/golden v1 cases: inputs, XGBoost's predicted label
                    (XGBClassifier.predict) and probabilities (predict_proba)

and iris_softprob.model.meta.json, a classify/xgboost-meta v1 sidecar.

Training is single-threaded with the exact tree method and a fixed seed, so a
rerun reproduces the committed files byte for byte.

Besides the data set's own rows, each case file holds probe rows that sit on
the split thresholds: for every distinct (feature, split condition t) in the
model, a training row that reaches such a split gets that feature set to t,
to the float64 and float32 neighbours of t, and to the midpoint between t and
the float32 below it (which rounds to even) and that midpoint's float64
neighbours. XGBoost decides float32(x) < t; these are the rows where a
library deciding x <= t in float64 would disagree. Then each feature is set
to the extremes 0, 1e-6, 1e3, 1e6, -1e6, +-1e30 and +-max float32.
"""

import json
import os
import struct

import numpy as np
import sklearn
import xgboost as xgb
from sklearn.datasets import load_breast_cancer, load_iris, load_wine

HERE = os.path.dirname(os.path.abspath(__file__))
F32_MAX = float(np.finfo(np.float32).max)


def parse_splits(raw):
    """Return the trees of an XGBoost legacy binary model as lists of nodes
    (left, right, feature, condition), reading the format independently of Go."""
    pos = 4 if raw[:4] == b"binf" else 0
    pos += 136  # LearnerModelParam
    for _ in range(2):  # objective name, booster name
        (n,) = struct.unpack_from("<Q", raw, pos)
        pos += 8 + n
    num_trees = struct.unpack_from("<i", raw, pos)[0]
    pos += 160  # GBTreeModelParam
    trees = []
    for _ in range(num_trees):
        num_nodes = struct.unpack_from("<i", raw, pos + 4)[0]
        pos += 148  # TreeParam
        nodes = []
        for i in range(num_nodes):
            _, left, right, sindex, cond = struct.unpack_from("<iiiIf", raw, pos + 20 * i)
            nodes.append((left, right, sindex & 0x7FFFFFFF, np.float32(cond)))
        pos += 36 * num_nodes  # nodes and their statistics
        trees.append(nodes)
    return trees


def reaching_rows(trees, X):
    """Map each distinct (feature, condition) to the first row of X that
    reaches a split on it, walking the trees as XGBoost does."""
    X32 = X.astype(np.float32)
    first = {}
    for nodes in trees:
        for r, row in enumerate(X32):
            i = 0
            while nodes[i][0] != -1:
                left, right, f, cond = nodes[i]
                key = (f, float(cond))
                if key not in first:
                    first[key] = r
                i = left if row[f] < cond else right
    return first


def probe_values(t):
    t64 = float(t)
    below32 = np.nextafter(np.float32(t), np.float32(-np.inf))
    above32 = np.nextafter(np.float32(t), np.float32(np.inf))
    mid = (float(below32) + t64) / 2  # exact in float64
    vals = [
        ("t", t64),
        ("t-64", float(np.nextafter(t64, -np.inf))),
        ("t+64", float(np.nextafter(t64, np.inf))),
        ("t-32", float(below32)),
        ("t+32", float(above32)),
        ("mid", mid),
        ("mid-64", float(np.nextafter(mid, -np.inf))),
        ("mid+64", float(np.nextafter(mid, np.inf))),
    ]
    return [(n, v) for n, v in vals if abs(v) <= F32_MAX]


def make_cases(clf, X, raw):
    rows, names = [], []
    for i, row in enumerate(X):
        rows.append([float(v) for v in row])
        names.append("data/%d" % i)
    first = reaching_rows(parse_splits(raw), X)
    for (f, t), r in sorted(first.items()):
        for tag, v in probe_values(t):
            row = [float(v) for v in X[r]]
            row[f] = v
            rows.append(row)
            names.append("threshold/f%d=%r/%s" % (f, t, tag))
    base = np.median(X, axis=0)
    for f in range(X.shape[1]):
        for v in (0.0, 1e-6, 1e3, 1e6, -1e6, 1e30, -1e30, F32_MAX, -F32_MAX):
            row = [float(x) for x in base]
            row[f] = v
            rows.append(row)
            names.append("extreme/f%d=%r" % (f, v))
    A = np.array(rows, dtype=np.float64)
    labels = clf.predict(A)
    proba = clf.predict_proba(A)
    cases = []
    for name, row, lab, p in zip(names, rows, labels, proba):
        cases.append({
            "name": name,
            "input": row,
            "label": str(int(lab)),
            "proba": [float(v) for v in p],
        })
    return cases


def make(name, X, y, **params):
    clf = xgb.XGBClassifier(tree_method="exact", n_jobs=1, random_state=0, **params)
    clf.fit(X, y)
    path = os.path.join(HERE, name + ".model")
    clf.get_booster().save_model(path)
    with open(path, "rb") as f:
        raw = f.read()
    nclass = int(clf.n_classes_)
    doc = {
        "format": "classify/golden",
        "format_version": 1,
        "model": name,
        "reference": "xgboost %s" % xgb.__version__,
        "objective": clf.get_params()["objective"] or ("multi:softprob" if nclass > 2 else "binary:logistic"),
        "features": ["f%d" % i for i in range(X.shape[1])],
        "classes": [str(i) for i in range(nclass)],
        "cases": make_cases(clf, X, raw),
    }
    with open(os.path.join(HERE, name + ".json"), "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    return clf


def main():
    assert xgb.__version__ == "1.7.4", xgb.__version__
    assert sklearn.__version__ == "1.2.1", sklearn.__version__
    iris = load_iris()
    make("iris_softprob", iris.data, iris.target, n_estimators=20, max_depth=3)
    meta = {
        "format": "classify/xgboost-meta",
        "format_version": 1,
        "library": "xgboost %s" % xgb.__version__,
        "objective": "multi:softprob",
        "features": ["sepal_length", "sepal_width", "petal_length", "petal_width"],
        "classes": ["setosa", "versicolor", "virginica"],
    }
    with open(os.path.join(HERE, "iris_softprob.model.meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    # Small enough for the fuzzer to mutate quickly.
    make("iris_tiny", iris.data, iris.target, n_estimators=2, max_depth=2)
    make("iris_softmax", iris.data, iris.target, n_estimators=10, max_depth=2,
         objective="multi:softmax")
    bc = load_breast_cancer()
    make("breast_cancer_logistic", bc.data, bc.target, n_estimators=30, max_depth=3)
    wine = load_wine()
    make("wine_200", wine.data, wine.target, n_estimators=200, max_depth=3)


if __name__ == "__main__":
    main()
