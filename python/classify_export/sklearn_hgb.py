"""classify/sklearn-hgb v2 from a fitted HistGradientBoostingClassifier.

What scikit-learn predicts with, and nothing else: the baseline raw prediction, per iteration
per class the predictor's nodes (value, feature_idx, num_threshold, missing_go_to_left, left,
right, is_leaf, is_categorical, bitset_idx) and its raw-category bitsets, the known-category
bitsets of the bin mapper, and, when the model has categorical features, the ordinal encoding
scikit-learn applies to the input first (its ColumnTransformer puts the categorical columns
first and maps each raw category to its index, unknown and NaN to NaN). Version 2 adds each
node's training sample count and split gain (`count`, `gain`: what TreeSHAP weighs a split's
children by, and the split gain importance).
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from . import jsonio
from .errors import ExportError
# shared with the trees and forests: the same estimator attributes, the same DataFrame rebuilding
from .sklearn_trees import _threshold, model_class_labels, model_feature_names, n_features, predict_frame  # noqa: F401
from .sklearn_trees import reference as _sklearn_reference

FORMAT = "classify/sklearn-hgb"
FORMAT_VERSION = 2
ESTIMATOR = "HistGradientBoostingClassifier"
KIND = "hist_gradient_boosting"


def check_fitted(est, what):
    if not hasattr(est, "_predictors") or not hasattr(est, "classes_"):
        raise ExportError(f"{what}: the {ESTIMATOR} is not fitted")
    loss = getattr(est, "loss", "log_loss")
    if loss != "log_loss":
        raise ExportError(f"{what}: loss {loss!r} is not supported (only log_loss)")
    k = int(est.n_trees_per_iteration_)
    if k != (1 if len(est.classes_) == 2 else len(est.classes_)):
        raise ExportError(f"{what}: {k} trees per iteration for {len(est.classes_)} classes")


def _gain(v):
    """A node's split gain (-1 at leaves, as scikit-learn stores it); never NaN or infinite."""
    v = float(v)
    if not math.isfinite(v):
        raise ExportError(f"a predictor has a split gain of {v}")
    return v


def _bitsets(a):
    return [[int(w) for w in row] for row in np.asarray(a, dtype=np.uint32)]


def encoding(est, what):
    """The input's preprocessing: (columns, categories).

    columns[j] is the input feature that the predictors' feature j reads; categories[i] is,
    for input feature i, the sorted list of its known raw categories (None when numerical).
    Without categorical features, columns is the identity and categories all None.
    """
    nf = n_features(est)
    pre = getattr(est, "_preprocessor", None)
    if pre is None:
        return list(range(nf)), [None] * nf
    is_cat = np.asarray(est.is_categorical_, dtype=bool)
    cat_cols = np.flatnonzero(is_cat).tolist()
    num_cols = np.flatnonzero(~is_cat).tolist()
    columns = cat_cols + num_cols
    names = [name for name, _, _ in pre.transformers_]
    if names[:2] != ["encoder", "numerical"] or pre.output_indices_["encoder"] != slice(0, len(cat_cols)):
        raise ExportError(f"{what}: unexpected preprocessing layout {names}: this scikit-learn version "
                          "arranges categorical features in a way the exporter does not know")
    enc = pre.named_transformers_["encoder"]
    categories = [None] * nf
    for fi, cats in zip(cat_cols, enc.categories_):
        cats = list(cats)
        if cats and isinstance(cats[-1], float) and math.isnan(cats[-1]):
            cats = cats[:-1]
        try:
            vals = [float(c) for c in cats]
        except (TypeError, ValueError):
            raise ExportError(f"{what}: categorical feature {fi} has non-numeric categories ({cats[:3]}...): "
                              "classify takes numbers; encode the categories as numbers before training") from None
        if any(isinstance(c, (str, bytes)) for c in cats) or any(not math.isfinite(v) for v in vals):
            raise ExportError(f"{what}: categorical feature {fi} has non-numeric or infinite categories")
        if vals != sorted(vals) or len(set(vals)) != len(vals):
            raise ExportError(f"{what}: categorical feature {fi}: categories are not sorted and unique")
        categories[fi] = vals
    return columns, categories


def encode(columns, categories, X):
    """X as the predictors see it (the preprocessing above, done independently of scikit-learn)."""
    X = np.asarray(X, dtype=np.float64)
    out = np.empty_like(X)
    for j, fi in enumerate(columns):
        col = X[:, fi]
        cats = categories[fi]
        if cats is None:
            out[:, j] = col
            continue
        code = {v: float(i) for i, v in enumerate(cats)}
        out[:, j] = [code.get(float(v), math.nan) if not math.isnan(v) else math.nan for v in col]
    return out


def _predictor_dict(p):
    n = p.nodes
    return {
        "value": n["value"].astype(np.float64).tolist(),
        "feature_idx": n["feature_idx"].astype(np.int64).tolist(),
        # +/-inf (a split that sends only NaN right) as +/-max float64
        "num_threshold": [_threshold(v, "a predictor") for v in n["num_threshold"].tolist()],
        "missing_go_to_left": n["missing_go_to_left"].astype(int).tolist(),
        "left": n["left"].astype(np.int64).tolist(),
        "right": n["right"].astype(np.int64).tolist(),
        "is_leaf": n["is_leaf"].astype(int).tolist(),
        "is_categorical": n["is_categorical"].astype(int).tolist(),
        "bitset_idx": n["bitset_idx"].astype(np.int64).tolist(),
        "raw_left_cat_bitsets": _bitsets(p.raw_left_cat_bitsets),
        "count": n["count"].astype(np.int64).tolist(),
        "gain": [_gain(v) for v in n["gain"].tolist()],
    }


def document(est, features, classes, what="the estimator"):
    import sklearn

    columns, categories = encoding(est, what)
    known, f_idx_map = est._bin_mapper.make_known_categories_bitsets()
    baseline = np.asarray(est._baseline_prediction, dtype=np.float64).reshape(-1)
    k = int(est.n_trees_per_iteration_)
    if baseline.size != k:
        raise ExportError(f"{what}: baseline prediction of size {baseline.size} for {k} trees per iteration")
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "estimator": ESTIMATOR,
        "kind": KIND,
        "library": f"scikit-learn {sklearn.__version__}",
        "features": list(features),
        "classes": list(classes),
        "link": "logistic" if k == 1 else "softmax",
        "baseline": baseline.tolist(),
        "columns": columns,
        "categories": categories,
        "known_cat_bitsets": _bitsets(known),
        "f_idx_map": np.asarray(f_idx_map).astype(np.int64).tolist(),
        "iterations": [[_predictor_dict(p) for p in it] for it in est._predictors],
    }


def artifact_bytes(est, features, classes, what="the estimator") -> bytes:
    return jsonio.dumps_compact(document(est, features, classes, what), convert=False).encode()


def check_encoding(est, X, what="the estimator"):
    """The exporter's reading of the preprocessing must be scikit-learn's own, on X."""
    pre = getattr(est, "_preprocessor", None)
    if pre is None:
        return
    columns, categories = encoding(est, what)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = np.asarray(pre.transform(predict_frame(est, X)), dtype=np.float64)
    ours = encode(columns, categories, X)
    if not np.array_equal(theirs, ours, equal_nan=True):
        raise RuntimeError("the exported column layout and category codes differ from scikit-learn's preprocessing")


def split_thresholds(est, what="the estimator"):
    """(input feature, value) probes: every numerical threshold; for a categorical feature each
    known category, -1 and the category above the largest (unknown: NaN's way)."""
    columns, categories = encoding(est, what)
    out = set()
    for it in est._predictors:
        for p in it:
            n = p.nodes
            split = (n["is_leaf"] == 0) & (n["is_categorical"] == 0)
            for j, t in zip(n["feature_idx"][split].tolist(), n["num_threshold"][split].tolist()):
                out.add((columns[j], float(t)))
    for fi, cats in enumerate(categories):
        if cats:
            out.update((fi, v) for v in cats)
            out.update({(fi, -1.0), (fi, max(cats) + 1.0)})
    return sorted(out)


def reference(est, X, classes):
    """scikit-learn's own predict and predict_proba on X, labels as class names, once the
    exporter's reading of the preprocessing is checked to be scikit-learn's on X."""
    check_encoding(est, X)
    return _sklearn_reference(est, X, classes)
