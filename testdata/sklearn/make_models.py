#!/usr/bin/python3
"""Make the scikit-learn test models of the classify package and scikit-learn's own answers.

Run from anywhere, once with each interpreter (each writes only the models of its own
scikit-learn version and its own entries of index.json):

    /tmp/v/bin/python testdata/sklearn/make_models.py   # a venv with scikit-learn 1.9.1, numpy 2.x
    /usr/bin/python3 testdata/sklearn/make_models.py    # Debian 12's python3-sklearn 1.2.1

Written so far with scikit-learn 1.9.1 (numpy 2.4.6) and 1.2.1 (numpy 1.24.2). For each model
NAME it writes, beside this script:

    NAME.json          the artifact, classify/sklearn-trees (research/FORMATS.md), written by
                       export() below, a stand-in for the exporter package that keeps to the same
                       bytes: compact JSON, floats as Python's repr, v1's keys plus estimator,
                       library and per tree missing_go_to_left (v2), and per tree the node covers
                       n_node_samples, weighted_n_node_samples and impurity (v3, from
                       scikit-learn 1.9.1 on; the 1.2.1 models were written as v2 and are kept)
    NAME.golden.json   classify/golden v2 cases: inputs (null = NaN), scikit-learn's predict
                       label (str of the label) and predict_proba probabilities
    index.json         every model: artifact, golden file, estimator, library, and what
                       scikit-learn itself does with a NaN and with an infinity at predict time
                       (tried here, not assumed)

Training is seeded and single-threaded, so a rerun with the same versions reproduces the files
byte for byte.

Cases: the training rows (with their NaNs), then for every split node of every tree a row that
reaches it with the split feature set to the threshold, its float32 and float64 neighbours
below and above; for models that take NaN, the same row with the split feature NaN (the node's
learnt direction), every feature NaN in turn on a few rows and an all-NaN row; last, every
feature set to 0, -0.0, 1e-6, +-1e30 and +-float32 max on a mean row.
"""

import json
import math
import os
import sys
import warnings

import numpy as np
import sklearn
from sklearn.datasets import load_iris, load_wine
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier

HERE = os.path.dirname(os.path.abspath(__file__))
VERSION = sklearn.__version__
F32_MAX = float(np.finfo(np.float32).max)
KINDS = {"DecisionTreeClassifier": "decision_tree", "RandomForestClassifier": "random_forest",
         "ExtraTreesClassifier": "random_forest"}


def accepts_nan(est, X):
    """Whether the fitted estimator predicts on a row holding NaN (tried, not assumed)."""
    row = np.array(X[:1], dtype=np.float64)
    row[0, 0] = np.nan
    try:
        est.predict_proba(row)
    except ValueError:
        return False
    return True


def refuses_inf(est, X):
    """Whether the fitted estimator refuses +-inf and a value beyond float32 (tried)."""
    for v in (np.inf, -np.inf, 1e39):
        row = np.array(X[:1], dtype=np.float64)
        row[0, 0] = v
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # numpy's overflow cast of 1e39
                est.predict_proba(row)
        except ValueError:
            continue
        return False
    return True


def export(est, features, missing):
    """classify/sklearn-trees bytes for a fitted DecisionTree, RandomForest or ExtraTrees classifier:
    v3 (node covers and impurities) for this script's current scikit-learn; the committed 1.2.1
    models are v2 (no covers), written by an earlier version of this function."""
    name = type(est).__name__
    trees = [est] if name == "DecisionTreeClassifier" else list(est.estimators_)
    classes = [str(c) for c in est.classes_]
    if len(set(classes)) != len(classes) or "" in classes:
        raise ValueError(f"class labels {est.classes_!r} are not unique and non-empty as strings")
    out = []
    for t in trees:
        tr = t.tree_
        if tr.n_outputs != 1:
            raise ValueError("multi-output trees are not supported")
        d = {
            "children_left": [int(v) for v in tr.children_left],
            "children_right": [int(v) for v in tr.children_right],
            "feature": [int(v) for v in tr.feature],
            # +inf (a split that sends only the missing values right) is not JSON: any
            # threshold at or above float32's max sends every accepted non-missing value left.
            "threshold": [sys.float_info.max if v == math.inf else float(v) for v in tr.threshold],
            "value": [[float(c) for c in row] for row in tr.value[:, 0, :]],
            "n_node_samples": [int(v) for v in tr.n_node_samples],
            "weighted_n_node_samples": [float(v) for v in tr.weighted_n_node_samples],
            "impurity": [float(v) for v in tr.impurity],
        }
        if missing:
            d["missing_go_to_left"] = [int(v) for v in tr.missing_go_to_left]
        out.append(d)
    doc = {
        "format": "classify/sklearn-trees",
        "format_version": 3,
        "kind": KINDS[name],
        "estimator": name,
        "library": f"scikit-learn {VERSION}",
        "features": list(features),
        "classes": classes,
        "trees": out,
    }
    return (json.dumps(doc, separators=(",", ":"), allow_nan=False) + "\n").encode()


def f32_neighbours(t):
    f = np.float32(t)
    if float(f) < t:
        below, above = f, np.nextafter(f, np.float32(np.inf))
    elif float(f) > t:
        below, above = np.nextafter(f, np.float32(-np.inf)), f
    else:
        below, above = np.nextafter(f, np.float32(-np.inf)), np.nextafter(f, np.float32(np.inf))
    return float(below), float(above)


def cases(est, X, nan):
    """(name, row) probe cases, deduplicated by input."""
    out, seen = [], set()

    def add(name, row):
        key = tuple("nan" if math.isnan(v) else v for v in row)
        if key not in seen:
            seen.add(key)
            out.append((name, [float(v) for v in row]))

    for i, row in enumerate(X):
        add(f"data/{i}", row)
    trees = [est] if isinstance(est, DecisionTreeClassifier) else list(est.estimators_)
    for ti, t in enumerate(trees):
        paths = t.decision_path(X).tocsc()
        tr = t.tree_
        for node in range(tr.node_count):
            if tr.children_left[node] == -1:
                continue
            reach = paths[:, node].nonzero()[0]
            if len(reach) == 0:
                continue
            base = np.array(X[reach[0]], dtype=np.float64)
            f, thr = int(tr.feature[node]), float(tr.threshold[node])
            probes = []
            if math.isfinite(thr):
                b32, a32 = f32_neighbours(thr)
                probes = [("exact", thr), ("f32_below", b32), ("f32_above", a32),
                          ("f64_below", math.nextafter(thr, -math.inf)), ("f64_above", math.nextafter(thr, math.inf))]
            else:
                probes = [("f32_max", F32_MAX)]
            if nan:
                probes.append(("nan", math.nan))
            for pname, v in probes:
                row = base.copy()
                row[f] = v
                add(f"split/t{ti}/n{node}/{pname}", row)
    if nan:
        for i in range(0, len(X), max(1, len(X) // 5)):
            for f in range(X.shape[1]):
                row = np.array(X[i], dtype=np.float64)
                row[f] = math.nan
                add(f"nan/row{i}/f{f}", row)
        add("nan/all", [math.nan] * X.shape[1])
    mean = np.nanmean(X, axis=0)  # X has no all-NaN column
    for f in range(X.shape[1]):
        for v in (0.0, -0.0, 1e-6, 1e30, -1e30, F32_MAX, -F32_MAX):
            row = mean.copy()
            row[f] = v
            add(f"extreme/f{f}/{v!r}", row)
    return out


def golden_bytes(name, est, features, artifact, cases_):
    X = np.array([row for _, row in cases_], dtype=np.float64)
    with warnings.catch_warnings():
        # check_array's finiteness test sums a row; +-float32 max rows overflow it, harmlessly.
        warnings.simplefilter("ignore", RuntimeWarning)
        labels = est.predict(X)
        proba = est.predict_proba(X)
    lines = []
    for (cname, row), label, p in zip(cases_, labels, proba):
        case = {"name": cname, "input": [None if math.isnan(v) else v for v in row],
                "label": str(label), "proba": [float(v) for v in p]}
        lines.append(json.dumps(case, separators=(",", ":"), allow_nan=False))
    head = {
        "format": "classify/golden", "format_version": 2, "model": name,
        "artifact_sha256": __import__("hashlib").sha256(artifact).hexdigest(),
        "reference": f"scikit-learn {VERSION}", "kind": KINDS[type(est).__name__],
        "artifact": name + ".json", "tolerance": 1e-9,
        "features": list(features), "classes": [str(c) for c in est.classes_],
    }
    text = json.dumps(head, separators=(",", ":"))[:-1] + ',"cases":[\n' + ",\n".join(lines) + "\n]}\n"
    return text.encode()


def with_nan(X, rate, seed):
    rng = np.random.RandomState(seed)
    X = X.copy()
    X[rng.rand(*X.shape) < rate] = np.nan
    return X


def models():
    """(name, estimator, X, y, features) for this scikit-learn version."""
    iris = load_iris()
    Xi, yi = iris.data, iris.target
    fi = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    species = np.array(["setosa", "versicolor", "virginica"])[yi]
    wine = load_wine()
    fw = list(wine.feature_names)
    major_minor = tuple(int(p) for p in VERSION.split(".")[:2])
    if major_minor < (1, 3):
        # 1.2: no missing values; value holds weighted counts (class weights included).
        keep = np.r_[0:50, 50:70, 100:150]  # imbalanced on purpose
        return [
            ("dt_iris_121", DecisionTreeClassifier(random_state=0), Xi, species, fi),
            ("rf_iris_balanced_121",
             RandomForestClassifier(n_estimators=6, max_depth=4, class_weight="balanced", random_state=0, n_jobs=1),
             Xi[keep], species[keep], fi),
        ]
    # Missingness alone separates class 42: the best splitter's missing-only split (threshold +inf).
    rng = np.random.RandomState(7)
    n = 120
    ys = np.repeat([3, 10, 42], n // 3)
    Xs = np.column_stack([rng.rand(n), rng.rand(n) + (ys == 10) * 0.6])
    Xs[ys == 42, 0] = np.nan
    Xs = np.round(Xs, 3)
    Xn = with_nan(Xi, 0.12, 1)
    return [
        ("dt_iris_nan", DecisionTreeClassifier(random_state=0), Xn, species, fi),
        ("dt_missing_split", DecisionTreeClassifier(max_depth=3, random_state=0), Xs, ys, ["x0", "x1"]),
        ("rf_iris_nan", RandomForestClassifier(n_estimators=8, max_depth=4, random_state=0, n_jobs=1),
         Xn, np.array([-1, 5, 100])[yi], fi),
        ("et_iris_nan", ExtraTreesClassifier(n_estimators=8, max_depth=4, random_state=0, n_jobs=1),
         Xn, yi == 2, fi),
        ("dt_wine_balanced", DecisionTreeClassifier(max_depth=4, class_weight="balanced", random_state=0),
         wine.data, wine.target, fw),
        ("rf_wine_balanced",
         RandomForestClassifier(n_estimators=5, max_depth=3, class_weight="balanced", random_state=0, n_jobs=1),
         wine.data, np.array(["a", "b", "c"])[wine.target], fw),
    ]


def main():
    index_path = os.path.join(HERE, "index.json")
    index = []
    if os.path.exists(index_path):
        with open(index_path) as f:
            index = [e for e in json.load(f)["models"] if e["library"] != f"scikit-learn {VERSION}"]
    for name, est, X, y, features in models():
        est.fit(X, y)
        nan = accepts_nan(est, X)
        if not refuses_inf(est, X):
            raise SystemExit(f"{name}: scikit-learn {VERSION} took an infinity")
        if np.isnan(X).any() and not nan:
            raise SystemExit(f"{name}: trained with NaN but refuses it")
        if name == "dt_missing_split" and not np.isinf(est.tree_.threshold).any():
            raise SystemExit(f"{name}: expected a missing-only split (threshold +inf)")
        artifact = export(est, features, nan)
        cs = cases(est, X, nan)
        with open(os.path.join(HERE, name + ".json"), "wb") as f:
            f.write(artifact)
        with open(os.path.join(HERE, name + ".golden.json"), "wb") as f:
            f.write(golden_bytes(name, est, features, artifact, cs))
        index.append({"name": name, "artifact": name + ".json", "golden": name + ".golden.json",
                      "estimator": type(est).__name__, "library": f"scikit-learn {VERSION}",
                      "accepts_nan": nan, "refuses_inf": True, "cases": len(cs)})
        print(f"{name}: {type(est).__name__}, {len(cs)} cases, NaN {'taken' if nan else 'refused'}")
    index.sort(key=lambda e: e["name"])
    with open(index_path, "w") as f:
        f.write(json.dumps({"models": index}, indent=1) + "\n")


if __name__ == "__main__":
    main()
