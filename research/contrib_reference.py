"""Reference TreeSHAP contributions (issue 12) for every tree model classify loads, written by the
libraries (or, where they cannot, by an exact computation here), for contrib_parity_test.go.

    python research/contrib_reference.py [--out testdata/contrib]

Writes testdata/contrib/<group>/<model>.contrib.json (classify/contrib v1, research/FORMATS.md)
for:

- production/: the production registry's decision_tree, random_forest and xgboost (models/),
  rows from their golden files (testdata/golden/);
- sklearn/: testdata/sklearn's scikit-learn 1.9.1 models (Iris and wine, NaN rows included;
  the 1.2.1 `_121` models are v2 artifacts without covers and are left out);
- xgboost/<version>/: testdata/xgboost/<version>/'s models, one file per model listing every
  format of it (legacy binary, JSON, UBJSON) under `artifacts`: each must give these values;
- boosting/<data set>/: testdata/boosting's LightGBM, HistGradientBoosting and
  GradientBoosting models (iris, digits, breast_cancer, missing, categorical).

The references, per model (the file's `reference` says which):

- XGBoost: its own `Booster.predict(pred_contribs=True)` (TreeSHAP on the trees' sum_hessian
  covers, float32), loaded by XGBoost 3.2.0 from the model's JSON file; raw is
  `output_margin=True`. Tolerance 1e-5 (float32 arithmetic).
- LightGBM: its own `Booster.predict(pred_contrib=True)` on the committed text model; raw is
  `raw_score=True`. Tolerance 1e-9.
- scikit-learn DecisionTree, RandomForest, ExtraTrees (raw: predict_proba),
  HistGradientBoosting without categorical features and binary GradientBoosting (raw:
  decision_function): shap's `TreeExplainer(model, feature_perturbation="tree_path_dependent")`.
- multi-class GradientBoosting (shap refuses it): shap's TreeExplainer on a model dict built
  here from the fitted stages (one tree per class per stage, value * learning_rate in its class's
  column, base_offset the init raw prediction).
- HistGradientBoosting with categorical features (shap ignores categorical splits and the
  column reordering of scikit-learn's preprocessing): an exact Shapley computation here,
  enumerating every subset of each tree's features with the path-dependent expectation
  (children weighted by the nodes' `count`), on the rows as scikit-learn's own preprocessing
  encodes them. The same computation is checked against shap on a model without categorical
  features before it is used.

scikit-learn models are refitted exactly as their generating scripts fit them (production.py,
testdata/sklearn/make_models.py, parity_suite.py) and their export is checked to be the
committed artifact byte for byte, so the reference is for that artifact. Every reference is
checked to sum to its raw output (bias + contributions), within its tolerance.

Rows: the model's parity or golden cases, at most MAX_ROWS of them and at most about
MAX_VALUES contribution values per file (digits' 10 classes x 65 get fewer rows), evenly
spaced over the cases, with up to a quarter of them taken from the cases holding NaN when there
are such cases.
"""
from __future__ import annotations

import argparse
import itertools
import json
import math
import shutil
import sys
import warnings
from math import factorial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402  (puts python/ on sys.path)

import numpy as np  # noqa: E402

ROOT = common.ROOT
FORMAT = "classify/contrib"
FORMAT_VERSION = 1
MAX_ROWS = 200
MAX_VALUES = 3000
MIN_ROWS = 12
TOL_FLOAT64 = 1e-9
TOL_XGBOOST = 1e-5
SKLEARN_SUITE = ROOT / "testdata" / "sklearn"
XGBOOST_SUITE = ROOT / "testdata" / "xgboost"
XGBOOST_VERSIONS = ("1.7.4", "2.1.4", "3.2.0")


rel = common.rel


def versions():
    import lightgbm
    import shap
    import sklearn
    import xgboost

    return {"sklearn": sklearn.__version__, "xgboost": xgboost.__version__, "lightgbm": lightgbm.__version__,
            "shap": shap.__version__}


# --------------------------------------------------------------------------------------- rows


def case_inputs(golden):
    return [[math.nan if v is None else float(v) for v in c["input"]] for c in golden["cases"]]


def pick_rows(inputs, width):
    """Evenly spaced cases, a quarter from those holding NaN (when any), in case order."""
    n = max(MIN_ROWS, min(MAX_ROWS, MAX_VALUES // width))
    idx = list(range(len(inputs)))
    if len(idx) <= n:
        return [inputs[i] for i in idx]
    nan = [i for i in idx if any(math.isnan(v) for v in inputs[i])]
    full = [i for i in idx if i not in set(nan)]
    k_full = min(len(full), n - min(len(nan), n // 4))
    k_nan = min(len(nan), n - k_full)
    chosen = set(spread(nan, k_nan)) | set(spread(full, k_full))
    return [inputs[i] for i in sorted(chosen)]


def spread(items, k):
    if k <= 0:
        return []
    if k >= len(items):
        return list(items)
    return [items[int(j * len(items) / k)] for j in range(k)]


# --------------------------------------------------------------------------------- importance


def tree_split_counts(trees, n_features, columns=None):
    counts = [0] * n_features
    for t in trees:
        for f, left in zip(t.feature.tolist(), t.children_left.tolist()):
            if left != -1:
                counts[f if columns is None else columns[f]] += 1
    return counts


def sklearn_importance(est):
    """Splits counted over the trees; gain: scikit-learn's own feature_importances_."""
    name = type(est).__name__
    if name == "DecisionTreeClassifier":
        trees = [est.tree_]
    elif name == "GradientBoostingClassifier":
        trees = [reg.tree_ for stage in est.estimators_ for reg in stage]
    else:
        trees = [t.tree_ for t in est.estimators_]
    return {"splits": tree_split_counts(trees, est.n_features_in_),
            "gain": [float(v) for v in est.feature_importances_], "gain_kind": "feature_importances_"}


def hgb_importance(est, columns):
    """scikit-learn reports none for HistGradientBoosting: computed here, per input feature, the
    count of split nodes and the sum of their `gain` over every predictor."""
    nf = est.n_features_in_
    splits, gain = [0] * nf, [0.0] * nf
    for it in est._predictors:
        for p in it:
            n = p.nodes
            for j, g, leaf in zip(n["feature_idx"].tolist(), n["gain"].tolist(), n["is_leaf"].tolist()):
                if not leaf:
                    splits[columns[j]] += 1
                    gain[columns[j]] += g
    return {"splits": splits, "gain": gain, "gain_kind": "total_split_gain"}


def xgboost_importance(booster, n_features):
    names = booster.feature_names or [f"f{i}" for i in range(n_features)]
    weight = booster.get_score(importance_type="weight")
    total = booster.get_score(importance_type="total_gain")
    return {"splits": [int(weight.get(n, 0)) for n in names], "gain": [float(total.get(n, 0.0)) for n in names],
            "gain_kind": "total_gain"}


def lightgbm_importance(booster):
    return {"splits": [int(v) for v in booster.feature_importance("split")],
            "gain": [float(v) for v in booster.feature_importance("gain")], "gain_kind": "gain"}


# ----------------------------------------------------------------------------- the references


def shap_explain(model, X):
    """shap's TreeExplainer (tree_path_dependent) on X: contributions [row][output][feature + 1]."""
    import shap

    expl = shap.TreeExplainer(model, feature_perturbation="tree_path_dependent")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vals = np.asarray(expl.shap_values(X, check_additivity=False), dtype=np.float64)
    ev = np.atleast_1d(np.asarray(expl.expected_value, dtype=np.float64))
    if vals.ndim == 2:  # one output
        vals = vals[:, :, None]
    n, f, k = vals.shape
    if ev.size != k:
        raise SystemExit(f"shap gave {ev.size} expected values for {k} outputs")
    out = np.empty((n, k, f + 1))
    out[:, :, :f] = vals.transpose(0, 2, 1)
    out[:, :, f] = ev
    return out


def shap_reference(of, raw):
    """The `reference` text of a contribution file computed by shap_explain."""
    import shap

    return f"shap {shap.__version__} TreeExplainer(feature_perturbation='tree_path_dependent') of {of}; raw: {raw}"


def as_float32_rows(X):
    """The rows as scikit-learn's trees and GradientBoosting see them (float32, then compared
    in double)."""
    return np.asarray(X, dtype=np.float32).astype(np.float64)


def gb_multiclass_dict(est):
    """A shap model dict of a multi-class GradientBoostingClassifier: every stage's class tree
    k adds learning_rate * value to output k; the init raw prediction is the base offset."""
    k = est.estimators_.shape[1]
    trees = []
    for stage in est.estimators_:
        for c, reg in enumerate(stage):
            t = reg.tree_
            values = np.zeros((t.node_count, k))
            values[:, c] = est.learning_rate * t.value[:, 0, 0]
            trees.append({"children_left": t.children_left.astype(np.int32),
                          "children_right": t.children_right.astype(np.int32),
                          "children_default": t.children_left.astype(np.int32),  # GB refuses NaN
                          "features": t.feature.astype(np.int32),
                          "thresholds": t.threshold.astype(np.float64),
                          "values": values,
                          "node_sample_weight": t.weighted_n_node_samples.astype(np.float64)})
    row = np.zeros((1, est.n_features_in_), dtype=np.float32)
    init = np.asarray(est._raw_predict_init(row), dtype=np.float64).reshape(-1)
    return {"trees": trees, "base_offset": init, "tree_output": "raw_value", "input_dtype": np.float32,
            "internal_dtype": np.float64}


class HGBTree:
    """One HistGradientBoosting predictor for the exact computation: its nodes, and which way a
    row (as scikit-learn's preprocessing encodes it) goes at each split."""

    def __init__(self, predictor):
        n = predictor.nodes
        self.value = n["value"].astype(np.float64)
        self.count = n["count"].astype(np.float64)
        self.feature = n["feature_idx"].astype(int)
        self.threshold = n["num_threshold"].astype(np.float64)
        self.missing_left = n["missing_go_to_left"].astype(bool)
        self.left = n["left"].astype(int)
        self.right = n["right"].astype(int)
        self.leaf = n["is_leaf"].astype(bool)
        self.categorical = n["is_categorical"].astype(bool)
        self.bitset = n["bitset_idx"].astype(int)
        self.raw_left = np.asarray(predictor.raw_left_cat_bitsets, dtype=np.uint32)
        self.features = sorted({int(f) for f, leaf in zip(self.feature, self.leaf) if not leaf})

    def goes_left(self, node, x):
        v = x[self.feature[node]]
        if math.isnan(v):
            return bool(self.missing_left[node])
        if self.categorical[node]:
            if v < 0:
                return bool(self.missing_left[node])
            c = int(v)
            word = self.raw_left[self.bitset[node], c // 32] if c // 32 < self.raw_left.shape[1] else 0
            return bool((int(word) >> (c % 32)) & 1)
        return v <= self.threshold[node]

    def expectation(self, x, known, node=0):
        """E[f(x) | x_known]: the path-dependent expectation (unknown features average the
        children by count)."""
        if self.leaf[node]:
            return self.value[node]
        if self.feature[node] in known:
            return self.expectation(x, known, self.left[node] if self.goes_left(node, x) else self.right[node])
        l, r = self.left[node], self.right[node]
        return (self.count[l] * self.expectation(x, known, l) + self.count[r] * self.expectation(x, known, r)) \
            / self.count[node]

    def shapley(self, x, n_columns):
        """Exact Shapley values of the tree's path-dependent game, by enumeration of subsets of the
        features it tests (the others are null players: zero), and its expected value."""
        feats = self.features
        m = len(feats)
        v = {}
        for r in range(m + 1):
            for s in itertools.combinations(feats, r):
                v[s] = self.expectation(x, set(s))
        phi = np.zeros(n_columns)
        for i in feats:
            others = [f for f in feats if f != i]
            total = 0.0
            for r in range(m):
                w = factorial(r) * factorial(m - r - 1) / factorial(m)
                for s in itertools.combinations(others, r):
                    with_i = tuple(sorted(s + (i,)))
                    total += w * (v[with_i] - v[s])
            phi[i] = total
        return phi, v[()]


def hgb_exact(est, X):
    """Exact TreeSHAP (path-dependent) values of a HistGradientBoostingClassifier, per input
    feature: contributions [row][output][feature + 1]."""
    from classify_export import sklearn_hgb

    columns, _ = sklearn_hgb.encoding(est, "the model")
    pre = getattr(est, "_preprocessor", None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        enc = np.asarray(pre.transform(X) if pre is not None else X, dtype=np.float64)  # scikit-learn's own
    k = int(est.n_trees_per_iteration_)
    nf = X.shape[1]
    baseline = np.asarray(est._baseline_prediction, dtype=np.float64).reshape(-1)
    trees = [[HGBTree(p) for p in it] for it in est._predictors]
    out = np.zeros((X.shape[0], k, nf + 1))
    for r, x in enumerate(enc):
        for c in range(k):
            phi_cols = np.zeros(nf)
            bias = baseline[c]
            for it in trees:
                phi, ev = it[c].shapley(x, nf)
                phi_cols += phi
                bias += ev
            for j in range(nf):  # predictor column j is input feature columns[j]
                out[r, c, columns[j]] += phi_cols[j]
            out[r, c, nf] = bias
    return out


def check_exact_against_shap():
    """The exact computation must give shap's values on a model shap reads correctly (no
    categorical features): HistGradientBoosting on Iris with NaN, multi-class."""
    from sklearn.datasets import load_iris
    from sklearn.ensemble import HistGradientBoostingClassifier

    X, y = load_iris(return_X_y=True)
    X = X.copy()
    X[::7, 1] = np.nan
    est = HistGradientBoostingClassifier(max_iter=5, max_leaf_nodes=6, random_state=0).fit(X, y)
    rows = X[::10]
    a, b = hgb_exact(est, rows), shap_explain(est, rows)
    worst = float(np.max(np.abs(a - b)))
    if worst > 1e-12:
        raise SystemExit(f"the exact Shapley computation differs from shap by {worst:.3g} on a model shap reads")
    return worst


# ------------------------------------------------------------------------------------- writing


def fmt64(v):
    return repr(float(v))


def fmt32(v):
    """A float32 value as its shortest decimal (float32(parse(text)) gives the same bits)."""
    s = str(np.float32(v))
    if float(np.float32(float(s))) != float(np.float32(v)):
        raise SystemExit(f"float32 {v!r} does not round-trip as {s}")
    return s


def write(path, head, rows, raw, contribs, fmt):
    """One classify/contrib v1 file: the header, then rows, raw and contributions one row a line."""
    def num_list(vals, f):
        return "[" + ",".join(f(v) for v in vals) + "]"

    def row_text(row):
        return "[" + ",".join("null" if math.isnan(v) else fmt64(v) for v in row) + "]"

    lines_rows = [row_text(r) for r in rows]
    lines_raw = [num_list(r, fmt) for r in raw]
    lines_con = ["[" + ",".join(num_list(o, fmt) for o in rc) + "]" for rc in contribs]
    text = json.dumps(head, separators=(",", ":"), allow_nan=False)[:-1]
    text += ',"rows":[\n' + ",\n".join(lines_rows) + "\n]"
    text += ',"raw":[\n' + ",\n".join(lines_raw) + "\n]"
    text += ',"contributions":[\n' + ",\n".join(lines_con) + "\n]}\n"
    json.loads(text)  # well-formed
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path.stat().st_size


def emit(out, group, name, *, kind, artifact, artifacts, reference, tolerance, features, outputs, importance,
         rows, raw, contribs, extra=None):
    rows = np.asarray(rows, dtype=np.float64)
    raw = np.asarray(raw, dtype=np.float64).reshape(len(rows), len(outputs))
    contribs = np.asarray(contribs, dtype=np.float64)
    if contribs.shape != (len(rows), len(outputs), len(features) + 1):
        raise SystemExit(f"{group}/{name}: contributions of shape {contribs.shape}, want "
                         f"{(len(rows), len(outputs), len(features) + 1)}")
    total = contribs.sum(axis=2)
    err = float(np.max(np.abs(total - raw)))
    # float32 references: the sum property holds to float32 rounding, relative to the sizes added
    scale = np.maximum(1.0, np.abs(contribs).sum(axis=2))
    rel_err = float(np.max(np.abs(total - raw) / scale))
    if rel_err > tolerance:
        raise SystemExit(f"{group}/{name}: contributions + bias differ from the raw output by {err:.3g} "
                         f"(relative {rel_err:.3g} > tolerance {tolerance})")
    imp = importance
    if len(imp["splits"]) != len(features) or len(imp["gain"]) != len(features):
        raise SystemExit(f"{group}/{name}: importance of the wrong length")
    head = {"format": FORMAT, "format_version": FORMAT_VERSION, "model": name, "kind": kind,
            "artifact": artifact, "artifacts": artifacts,
            "artifact_sha256": common.sha256_file(ROOT / artifact)}
    head.update(extra or {})
    head.update({"reference": reference, "tolerance": tolerance, "features": features, "outputs": outputs,
                 "sum_error": err, "importance": imp})
    fmt = fmt32 if tolerance == TOL_XGBOOST else fmt64
    path = out / group / f"{name}.contrib.json"
    size = write(path, head, rows, raw, contribs, fmt)
    print(f"{rel(path)}: {len(rows)} rows, {len(outputs)} outputs, {len(features)} features, "
          f"sum error {err:.2g}, {size // 1024} KiB; {reference}")
    return size


def outputs_of(classes, n_raw):
    """Class names of the raw outputs: one per class, or the positive class of a binary model."""
    if n_raw == 1:
        return [classes[1]]
    return list(classes)


# -------------------------------------------------------------------------------------- groups


def sklearn_tree_reference(est, X):
    import sklearn

    X32 = as_float32_rows(X)
    contribs = shap_explain(est, X32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = est.predict_proba(X)
    return contribs, raw, shap_reference(f"scikit-learn {sklearn.__version__}'s {type(est).__name__}",
                                         "predict_proba")


def check_bytes(what, got, path):
    if got != Path(path).read_bytes():
        raise SystemExit(f"{what}: the refitted model's export is not the committed {rel(path)}: "
                         "regenerate it first (make research, testdata/sklearn/make_models.py)")


def production(out):
    import production as prod
    import exporters

    X, y, _ = common.load_iris_csv()
    manifest = json.loads((common.REGISTRY / "manifest.json").read_text())
    entries = {e["name"]: e for e in manifest["models"]}
    size = 0
    for name in ("decision_tree", "random_forest"):
        est = prod.make(name).fit(X, y)
        art = common.REGISTRY / entries[name]["file"]
        check_bytes(name, exporters.sklearn_trees_bytes(est, common.FEATURES, common.CLASSES), art)
        golden = json.loads((common.GOLDEN / f"{name}.json").read_text())
        rows = pick_rows(case_inputs(golden), 3 * 5)
        contribs, raw, ref = sklearn_tree_reference(est, np.array(rows))
        size += emit(out, "production", name, kind=entries[name]["kind"], artifact=rel(art), artifacts=[rel(art)],
                     reference=ref, tolerance=TOL_FLOAT64, features=golden["features"],
                     outputs=golden["classes"], importance=sklearn_importance(est), rows=rows, raw=raw,
                     contribs=contribs, extra={"registry": "models", "registry_name": name})
    e = entries["xgboost"]
    golden = json.loads((common.GOLDEN / "xgboost.json").read_text())
    art = common.REGISTRY / e["file"]
    size += xgboost_file(out, "production", "xgboost", art, [art], golden,
                         extra={"registry": "models", "registry_name": "xgboost"})
    return size


def xgboost_file(out, group, name, model_path, artifacts, golden, extra=None):
    import xgboost

    booster = xgboost.Booster(model_file=str(model_path))
    booster.set_param({"nthread": 1})
    features, classes = golden["features"], golden["classes"]
    inputs = case_inputs(golden)
    rows = pick_rows(inputs, len(classes) * (len(features) + 1))
    X = np.array(rows, dtype=np.float64)
    dm = xgboost.DMatrix(X, missing=np.nan, feature_names=booster.feature_names)
    contribs = np.asarray(booster.predict(dm, pred_contribs=True), dtype=np.float64)
    margin = np.asarray(booster.predict(dm, output_margin=True), dtype=np.float64)
    if contribs.ndim == 2:
        contribs = contribs[:, None, :]
        margin = margin.reshape(-1, 1)
    check_golden_margins(f"{group}/{name}", booster, dm, rows, margin, golden)
    outputs = outputs_of(classes, contribs.shape[1])
    ref = (f"xgboost {xgboost.__version__} Booster.predict(pred_contribs=True) of {Path(model_path).name} "
           "(nthread=1, float32); raw: output_margin=True")
    return emit(out, group, name, kind="xgboost", artifact=rel(model_path), artifacts=[rel(a) for a in artifacts],
                reference=ref, tolerance=TOL_XGBOOST, features=features, outputs=outputs,
                importance=xgboost_importance(booster, len(features)), rows=rows, raw=margin, contribs=contribs,
                extra=extra)


def check_golden_margins(what, booster, dm, rows, margin, golden):
    """XGBoost 3.2.0 reading a model another version wrote must predict what that version
    wrote into the golden file for these rows: its margins where the file has them, else its
    probabilities (multi:softprob, binary:logistic)."""
    import xgboost

    cases = {tuple("nan" if math.isnan(v) else v for v in c_in): c
             for c_in, c in zip(case_inputs(golden), golden["cases"])}
    objective = golden.get("objective", "multi:softprob")
    proba = np.asarray(booster.predict(dm), dtype=np.float64)
    for i, r in enumerate(rows):
        c = cases[tuple("nan" if math.isnan(v) else v for v in r)]
        if "margin" in c:
            got, want = margin[i], np.array(c["margin"])
        elif objective == "multi:softprob":
            got, want = proba[i], np.array(c["proba"])
        elif objective == "binary:logistic":
            got, want = np.array([1 - proba[i], proba[i]]), np.array(c["proba"])
        else:
            continue
        if got.shape != want.shape or np.max(np.abs(got - want)) > 1e-6:
            raise SystemExit(f"{what}: xgboost {xgboost.__version__} predicts {got} for {c['name']} where the "
                             f"golden file has {want}")


def lightgbm_averaged(booster, X, contribs, raw, ref):
    """boosting=rf (average_output): LightGBM 4.7.0's raw_score and pred_contrib are the sums over
    the iterations, not their mean (LightGBM issue 6217, open), while predict() applies the link
    to the mean. The reference divides both by the iteration count (Shapley values are linear),
    and checks that the link of that mean is predict()'s answer."""
    n = booster.current_iteration()
    contribs, raw = contribs / n, raw / n
    proba = np.asarray(booster.predict(X, num_threads=1), dtype=np.float64).reshape(len(X), -1)
    if raw.shape[1] == 1:
        mine = 1 / (1 + np.exp(-raw))
    else:
        e = np.exp(raw - raw.max(axis=1, keepdims=True))
        mine = e / e.sum(axis=1, keepdims=True)
    if np.max(np.abs(mine - proba)) > 1e-12:
        raise SystemExit("lightgbm average_output: the link of raw_score / iterations is not predict()'s answer")
    return contribs, raw, (ref + f", both divided by the {n} iterations (average_output: LightGBM returns their "
                           "sums, issue 6217; predict() links their mean)")


def sklearn_suite(out):
    sys.path.insert(0, str(SKLEARN_SUITE))
    import make_models
    import sklearn

    index = json.loads((SKLEARN_SUITE / "index.json").read_text())
    here = {e["name"] for e in index["models"] if e["library"] == f"scikit-learn {sklearn.__version__}"}
    size = 0
    for name, est, X, y, features in make_models.models():
        if name not in here:
            continue
        est.fit(X, y)
        nan = make_models.accepts_nan(est, X)
        art = SKLEARN_SUITE / f"{name}.json"
        check_bytes(name, make_models.export(est, features, nan), art)
        golden = json.loads((SKLEARN_SUITE / f"{name}.golden.json").read_text())
        k = len(golden["classes"])
        rows = pick_rows(case_inputs(golden), k * (len(features) + 1))
        contribs, raw, ref = sklearn_tree_reference(est, np.array(rows))
        kind = make_models.KINDS[type(est).__name__]
        size += emit(out, "sklearn", name, kind=kind, artifact=rel(art), artifacts=[rel(art)], reference=ref,
                     tolerance=TOL_FLOAT64, features=features, outputs=golden["classes"],
                     importance=sklearn_importance(est), rows=rows, raw=raw, contribs=contribs)
    return size


def xgboost_suite(out):
    size = 0
    for version in XGBOOST_VERSIONS:
        d = XGBOOST_SUITE / version
        for g in sorted(d.glob("*.golden.json")):
            golden = json.loads(g.read_text())
            name = golden["model"]
            files = [d / a["file"] for a in golden["artifacts"]]
            json_file = d / f"{name}.json"
            if json_file not in files:
                raise SystemExit(f"{rel(g)}: no JSON model to compute the reference from")
            files = [json_file] + [f for f in files if f != json_file]  # the reference's artifact first
            size += xgboost_file(out, f"xgboost/{version}", name, json_file, files, golden)
    return size


def boosting_suite(out):
    import lightgbm
    import sklearn
    from classify_export import sklearn_gb, sklearn_hgb

    import parity_suite

    root = ROOT / "testdata" / "boosting" / parity_suite.boosting_generation()
    size = 0
    for dataset in parity_suite.BOOSTING_DATASETS:
        d = root / dataset
        fitted = {m: (est, feats) for m, est, feats, _ in parity_suite.fitted_boosting(
            dataset, only={"hist_gradient_boosting", "gradient_boosting", "gradient_boosting_zero"})}
        for par_path in sorted(d.glob("*.parity.json")):
            par = json.loads(par_path.read_text())
            name, kind = par["model"], par["kind"]
            art = d / par["artifact"]
            features, classes = par["features"], par["classes"]
            inputs = case_inputs(par)
            n_raw = 1 if len(classes) == 2 else len(classes)
            rows = pick_rows(inputs, n_raw * (len(features) + 1))
            X = np.array(rows, dtype=np.float64)
            group = f"boosting/{dataset}"
            if kind == "lightgbm":
                booster = lightgbm.Booster(model_file=str(art))
                c = np.asarray(booster.predict(X, pred_contrib=True, num_threads=1), dtype=np.float64)
                raw = np.asarray(booster.predict(X, raw_score=True, num_threads=1), dtype=np.float64).reshape(len(X), -1)
                contribs = c.reshape(len(X), raw.shape[1], len(features) + 1)
                ref = (f"lightgbm {lightgbm.__version__} Booster.predict(pred_contrib=True) of {art.name} "
                       "(num_threads=1); raw: raw_score=True")
                if "\naverage_output\n" in art.read_text().split("\nTree=", 1)[0]:
                    contribs, raw, ref = lightgbm_averaged(booster, X, contribs, raw, ref)
                imp = lightgbm_importance(booster)
            else:
                est, feats = fitted[name]
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    raw = np.asarray(est.decision_function(X), dtype=np.float64).reshape(len(X), -1)
                if kind == "hist_gradient_boosting":
                    check_bytes(name, sklearn_hgb.artifact_bytes(est, feats, classes), art)
                    columns, categories = sklearn_hgb.encoding(est, name)
                    imp = hgb_importance(est, columns)
                    if any(c is not None for c in categories):
                        contribs = hgb_exact(est, X)
                        ref = (f"exact Shapley values of the path-dependent expectation (every subset of each "
                               f"tree's features, children weighted by count), research/contrib_reference.py, "
                               f"on scikit-learn {sklearn.__version__}'s HistGradientBoostingClassifier "
                               "(categorical splits: shap does not read them); raw: decision_function")
                    else:
                        contribs = shap_explain(est, X)
                        ref = shap_reference(f"scikit-learn {sklearn.__version__}'s HistGradientBoostingClassifier",
                                             "decision_function")
                else:
                    check_bytes(name, sklearn_gb.artifact_bytes(est, feats, classes), art)
                    imp = sklearn_importance(est)
                    X32 = as_float32_rows(X)
                    if n_raw == 1 and not isinstance(est.init_, str):
                        contribs = shap_explain(est, X32)
                        ref = shap_reference(f"scikit-learn {sklearn.__version__}'s GradientBoostingClassifier",
                                             "decision_function")
                    else:
                        contribs = shap_explain(gb_multiclass_dict(est), X32)
                        ref = shap_reference(
                            f"a model dict of scikit-learn {sklearn.__version__}'s GradientBoostingClassifier "
                            "(each stage's class tree, value * learning_rate, base_offset the init raw "
                            "prediction: shap refuses multi-class GradientBoosting)", "decision_function")
            size += emit(out, group, name, kind=kind, artifact=rel(art), artifacts=[rel(art)], reference=ref,
                         tolerance=TOL_FLOAT64, features=features, outputs=outputs_of(classes, raw.shape[1]),
                         importance=imp, rows=rows, raw=raw, contribs=contribs)
    return size


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(ROOT / "testdata" / "contrib"))
    args = ap.parse_args()
    v = versions()
    want = {"sklearn": "1.9.1", "xgboost": "3.2.0", "lightgbm": "4.7.0", "shap": "0.49.1"}
    if v != want:
        raise SystemExit(f"contrib_reference.py writes the references of {want} (research/requirements.txt); "
                         f"this interpreter has {v}")
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)  # everything in it is generated
    worst = check_exact_against_shap()
    print(f"exact Shapley computation agrees with shap within {worst:.2g} on a HistGradientBoosting model")
    size = production(out) + sklearn_suite(out) + xgboost_suite(out) + boosting_suite(out)
    print(f"wrote {rel(out)}: {size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
