"""Golden predictions (classify/golden v2) for every model in models/manifest.json.

    python3 research/golden.py [NAME ...]

The answers are the reference implementation's own:
- heuristic: research/rules.py evaluate_one (the Python rule evaluator, float64 comparisons)
  on the rules read from models/heuristic.json;
- decision_tree, random_forest: scikit-learn's predict / predict_proba of the production
  estimator refitted here; its export must be byte-identical to models/<file> (checked), so
  the answers belong to that artifact;
- xgboost: XGBClassifier.predict / predict_proba of the production model refitted here (its
  Booster.save_model bytes must equal models/xgboost.json, checked), class indices mapped to
  names; probabilities are float32 in XGBoost and stored as float(p). As a cross-check, a
  Booster loaded from models/xgboost.json must give the same probabilities on every case.

Cases: every Iris row, then edge inputs: every split threshold of the model (for the
heuristic: every rule threshold) exactly, at the nearest float32 and float64 values below and
above it, each with the other features taken from a training row that reaches that split and
from a class mean; the smallest and largest value seen per feature; far-out values; and, for a
model that takes missing values (NaN), NaN in each feature of each class mean and in all of them.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
import xgboost  # noqa: E402

import common  # noqa: E402
import exporters  # noqa: E402
from classify_export import sklearn_trees  # noqa: E402
from classify_export.parity import threshold_probes  # noqa: E402  (the exporter's probes: one definition)
import production  # noqa: E402
import rules  # noqa: E402

FAR_VALUES = [0.0, 1e-6, 1e3, 1e6, -1e6, 1e30, -1e30]


def edge_inputs(X, y, splits, missing=False):
    """splits: list of (feature index, threshold, base row index or None); missing: the model
    takes NaN (a missing value), so each feature is probed with NaN too.

    Returns a list of (name, input list)."""
    means = [X[y == k].mean(axis=0) for k in range(len(common.CLASSES))]
    cases = []
    for i, (fi, t, row) in enumerate(splits):
        bases = []
        if row is not None:
            bases.append((f"row{row}", X[row]))
        if row is None:  # no reaching row known (heuristic): every class mean
            bases += [(f"mean_{c}", m) for c, m in zip(common.CLASSES, means)]
        else:  # one class mean, rotating, besides the reaching row
            k = i % len(means)
            bases.append((f"mean_{common.CLASSES[k]}", means[k]))
        for bname, base in bases:
            for pname, v in threshold_probes(t):
                x = [float(b) for b in base]
                x[fi] = v
                cases.append((f"edge/threshold/{common.FEATURES[fi]}={t!r}/{pname}/{bname}", x))
    for fi, f in enumerate(common.FEATURES):
        for label, v in (("min", float(X[:, fi].min())), ("max", float(X[:, fi].max()))):
            for k, m in enumerate(means):
                x = [float(b) for b in m]
                x[fi] = v
                cases.append((f"edge/{label}/{f}={v!r}/mean_{common.CLASSES[k]}", x))
    cases.append(("edge/min/all", [float(v) for v in X.min(axis=0)]))
    cases.append(("edge/max/all", [float(v) for v in X.max(axis=0)]))
    for v in FAR_VALUES:
        for fi, f in enumerate(common.FEATURES):
            for k, m in enumerate(means):
                x = [float(b) for b in m]
                x[fi] = v
                cases.append((f"edge/far/{f}={v!r}/mean_{common.CLASSES[k]}", x))
        cases.append((f"edge/far/all={v!r}", [v] * len(common.FEATURES)))
    if missing:
        for fi, f in enumerate(common.FEATURES):
            for k, m in enumerate(means):
                x = [float(b) for b in m]
                x[fi] = math.nan
                cases.append((f"edge/missing/{f}/mean_{common.CLASSES[k]}", x))
        cases.append(("edge/missing/all", [math.nan] * len(common.FEATURES)))
    # drop exact duplicates (same input), keeping the first name
    seen, out = set(), []
    for name, x in cases:
        key = tuple("nan" if math.isnan(v) else v for v in x)
        if key not in seen:
            seen.add(key)
            out.append((name, x))
    return out


def sklearn_splits(model, X):
    """Unique (feature, threshold) over all trees, each with the first training row reaching it."""
    trees = model.estimators_ if hasattr(model, "estimators_") else [model]
    found = {}
    for tree in trees:
        t = tree.tree_
        paths = tree.decision_path(X).tocsc()
        for node in range(t.node_count):
            if t.children_left[node] == -1:
                continue
            key = (int(t.feature[node]), float(t.threshold[node]))
            if key in found:
                continue
            rows = paths[:, node].nonzero()[0]
            found[key] = int(rows.min()) if rows.size else None
    return [(f, th, row) for (f, th), row in sorted(found.items())]


def xgboost_splits(booster, X):
    """Unique (feature, float32 split condition) with the first training row reaching it."""
    model = json.loads(booster.save_raw(raw_format="json"))
    X32 = X.astype(np.float32)
    found = {}
    for tree in model["learner"]["gradient_booster"]["model"]["trees"]:
        left, right = tree["left_children"], tree["right_children"]
        idx, cond = tree["split_indices"], [np.float32(c) for c in tree["split_conditions"]]
        reach = {}
        for r, x in enumerate(X32):
            n = 0
            while left[n] != -1:
                reach.setdefault(n, r)
                n = left[n] if x[idx[n]] < cond[n] else right[n]
        for n in range(len(left)):
            if left[n] == -1:
                continue
            key = (int(idx[n]), float(cond[n]))
            if key not in found or (found[key] is None and n in reach):
                found[key] = reach.get(n)
    return [(f, th, row) for (f, th), row in sorted(found.items())]


def heuristic_splits(doc, X):
    fi = {f: i for i, f in enumerate(doc["features"])}
    keys = sorted({(fi[c["feature"]], float(c["value"])) for r in doc["rules"] for c in r["when"]})
    return [(f, t, None) for f, t in keys]


def load_manifest():
    path = common.REGISTRY / "manifest.json"
    return {m["name"]: m for m in json.loads(path.read_text())["models"]}


def golden(name, entry):
    X, y, _ = common.load_iris_csv()
    art = common.REGISTRY / entry["file"]
    art_bytes = art.read_bytes()
    if common.sha256_bytes(art_bytes) != entry["sha256"]:
        raise SystemExit(f"models/{entry['file']}: sha256 does not match the manifest")

    if name == "heuristic":
        doc = json.loads(art_bytes)
        splits = heuristic_splits(doc, X)
        missing = False
        reference = "research/rules.py evaluate_one (Python, float64 comparisons)"

        def answer(inputs):
            out = [rules.evaluate_one(doc, x) for x in inputs]
            return [o[0] for o in out], [o[1] for o in out]
    elif name in ("decision_tree", "random_forest"):
        model = production.make(name).fit(X, y)
        if exporters.sklearn_trees_bytes(model, common.FEATURES, common.CLASSES) != art_bytes:
            raise SystemExit(f"refitted {name} does not export to the bytes of models/{entry['file']}")
        splits = sklearn_splits(model, X)
        missing = sklearn_trees.accepts_nan(model)  # what the exporter decided for this artifact
        reference = f"scikit-learn {sklearn.__version__} (predict, predict_proba)"

        def answer(inputs):
            A = np.asarray(inputs, dtype=np.float64)
            return ([common.CLASSES[int(k)] for k in model.predict(A)],
                    [[float(p) for p in row] for row in model.predict_proba(A)])
    elif name == "xgboost":
        model = production.make(name).fit(X, y)
        if exporters.xgboost_model_bytes(model) != art_bytes:
            raise SystemExit(f"refitted xgboost does not save to the bytes of models/{entry['file']}")
        loaded = xgboost.Booster(model_file=str(art))
        splits = xgboost_splits(model.get_booster(), X)
        missing = True  # XGBoost routes NaN in every model
        reference = f"xgboost {xgboost.__version__} (XGBClassifier.predict, predict_proba; float32 probabilities)"

        def answer(inputs):
            A = np.asarray(inputs, dtype=np.float64)
            proba = model.predict_proba(A)
            check = loaded.predict(xgboost.DMatrix(A))
            if not np.array_equal(proba, check):
                raise SystemExit("Booster loaded from models/xgboost.json disagrees with the fitted model")
            return ([common.CLASSES[int(k)] for k in model.predict(A)],
                    [[float(p) for p in row] for row in proba])
    else:
        raise SystemExit(f"unknown model {name}")

    cases = [(f"iris/{i}", [float(v) for v in X[i]]) for i in range(len(X))]
    cases += edge_inputs(X, y, splits, missing)
    labels, probas = answer([c[1] for c in cases])
    doc = {
        "format": "classify/golden",
        "format_version": 2,
        "model": name,
        "artifact_sha256": entry["sha256"],
        "reference": reference,
        "features": entry["features"],
        "classes": entry["classes"],
    }
    path = common.GOLDEN / f"{name}.json"
    head = json.dumps(doc, indent=2)[:-2]  # open object, one case per line below
    # classify/golden v2: a missing input value (NaN) is written as null.
    lines = [json.dumps({"name": n, "input": [None if math.isnan(v) else v for v in x], "label": lab, "proba": p},
                        allow_nan=False)
             for (n, x), lab, p in zip(cases, labels, probas)]
    text = head + ',\n  "cases": [\n    ' + ",\n    ".join(lines) + "\n  ]\n}\n"
    json.loads(text)  # well-formed
    common.write_text(path, text)
    n_edge = len(cases) - len(X)
    print(f"wrote {common.rel(path)}: {len(cases)} cases ({len(X)} iris rows, {n_edge} edge inputs, "
          f"{len(splits)} split thresholds)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*")
    args = ap.parse_args()
    manifest = load_manifest()
    for name in args.names or list(manifest):
        if name not in manifest:
            raise SystemExit(f"{name} is not in models/manifest.json")
        golden(name, manifest[name])


if __name__ == "__main__":
    main()
