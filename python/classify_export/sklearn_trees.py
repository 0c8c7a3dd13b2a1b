"""classify/sklearn-trees v3 from a fitted scikit-learn tree or forest.

Version 2 is version 1 (research/FORMATS.md) plus `estimator`, classes as
strings of any labels, and per tree `missing_go_to_left` exactly when the
fitted estimator accepts NaN at predict time. Version 3 adds each tree's node
covers and impurities (`n_node_samples`, `weighted_n_node_samples`,
`impurity`): what TreeSHAP (tree_path_dependent) and scikit-learn's
feature_importances_ are computed from.
"""
from __future__ import annotations

import math
import sys
import warnings

import numpy as np

from . import jsonio
from .errors import ExportError
from .loading import SKLEARN_ESTIMATORS

FORMAT = "classify/sklearn-trees"
FORMAT_VERSION = 3


def trees_of(est):
    """The fitted DecisionTreeClassifiers of est, in order."""
    if type(est).__name__ == "DecisionTreeClassifier":
        return [est]
    return list(est.estimators_)


def check_fitted(est, what):
    name = type(est).__name__
    if not hasattr(est, "classes_") or (name != "DecisionTreeClassifier" and not hasattr(est, "estimators_")) \
            or (name == "DecisionTreeClassifier" and not hasattr(est, "tree_")):
        raise ExportError(f"{what}: the {name} is not fitted")
    n_outputs = int(getattr(est, "n_outputs_", 1))
    if n_outputs != 1 or isinstance(est.classes_, list):
        raise ExportError(f"{what}: the {name} is multi-output ({n_outputs} outputs); classify serves "
                          "one output per model: train one classifier per target")
    for i, t in enumerate(trees_of(est)):
        if t.tree_.n_outputs != 1:
            raise ExportError(f"{what}: tree {i} is multi-output")


def n_features(est) -> int:
    return int(est.n_features_in_)


def model_feature_names(est):
    names = getattr(est, "feature_names_in_", None)
    return None if names is None else [str(n) for n in names]


def model_class_labels(est):
    return list(est.classes_)


def accepts_nan(est) -> bool:
    """Whether predict_proba takes a row holding NaN, found by trying it.

    Only scikit-learn versions whose trees store missing_go_to_left can route
    NaN; on older ones (before 1.3) the answer is always False.
    """
    if not all(hasattr(t.tree_, "missing_go_to_left") for t in trees_of(est)):
        return False
    return predict_takes_nan(est)


def predict_takes_nan(est) -> bool:
    """Whether est.predict_proba accepts a row holding NaN (it raises ValueError when not)."""
    row = np.zeros((1, n_features(est)), dtype=np.float64)
    row[0, 0] = np.nan
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.predict_proba(predict_frame(est, row))
    except ValueError:
        return False
    return True


def predict_frame(est, X):
    """X as the estimator saw its training data: a DataFrame when it was fitted on one."""
    names = getattr(est, "feature_names_in_", None)
    if names is None:
        return X
    try:
        import pandas as pd
    except ImportError:
        return X
    return pd.DataFrame(X, columns=list(names))


def _threshold(v, holder="a tree"):
    """tree_.threshold (or a HistGradientBoosting predictor's num_threshold) as a JSON number.

    A tree trained with NaN may split missing from present values with a
    threshold of +inf (every finite value goes left). JSON has no infinity, so
    +/-inf is written as +/-1.7976931348623157e308 (the largest float64): for
    every input scikit-learn accepts (finite, within float32) the comparison
    float32(x) <= threshold comes out the same.
    """
    v = float(v)
    if math.isnan(v):
        raise ExportError(f"{holder} has a NaN threshold")
    if math.isinf(v):
        return math.copysign(sys.float_info.max, v)
    return v


def covers(t):
    """A tree_'s node covers and impurities (format v3), one per node: the training sample count,
    the weighted sample count (what TreeSHAP weighs a split's children by) and the impurity
    (what feature_importances_ is computed from)."""
    return {
        "n_node_samples": t.n_node_samples.tolist(),
        "weighted_n_node_samples": t.weighted_n_node_samples.astype(np.float64).tolist(),
        "impurity": t.impurity.astype(np.float64).tolist(),
    }


def tree_arrays(t, value):
    """A tree_'s node arrays in the artifact's key order: structure, the given value array,
    then the covers (sklearn-trees v3, sklearn-gb v2)."""
    d = {  # tolist() gives Python ints and floats (the same float64 values)
        "children_left": t.children_left.tolist(),
        "children_right": t.children_right.tolist(),
        "feature": t.feature.tolist(),
        "threshold": [_threshold(v) for v in t.threshold.tolist()],
        "value": value.astype(np.float64).tolist(),
    }
    d.update(covers(t))
    return d


def _tree_dict(tree, with_missing):
    t = tree.tree_
    d = tree_arrays(t, t.value[:, 0, :])
    if with_missing:
        d["missing_go_to_left"] = np.asarray(t.missing_go_to_left).astype(int).tolist()
    return d


def document(est, features, classes, nan_ok):
    import sklearn

    name = type(est).__name__
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "estimator": name,
        "kind": SKLEARN_ESTIMATORS[name],
        "library": f"scikit-learn {sklearn.__version__}",
        "features": list(features),
        "classes": list(classes),
        "trees": [_tree_dict(t, nan_ok) for t in trees_of(est)],
    }


def artifact_bytes(est, features, classes, nan_ok) -> bytes:
    # document() holds Python types only (tolist), so no conversion pass is needed
    return jsonio.dumps_compact(document(est, features, classes, nan_ok), convert=False).encode()


def split_thresholds(est):
    """Sorted unique (feature index, threshold) over all split nodes of all trees."""
    return tree_splits(tree.tree_ for tree in trees_of(est))


def tree_splits(tree_objs):
    """Sorted unique (feature index, threshold) over all split nodes of the given tree_ objects."""
    out = set()
    for t in tree_objs:
        split = t.children_left != -1
        out.update(zip(t.feature[split].tolist(), t.threshold[split].tolist()))
    return sorted(out)


def reference(est, X, classes):
    """scikit-learn's own predict and predict_proba on X, labels as class names."""
    import sklearn

    labels = list(est.classes_)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = predict_frame(est, X)
        pred = est.predict(frame)
        proba = est.predict_proba(frame)
    out_labels = [classes[_index(labels, p)] for p in pred]
    out_proba = [[float(v) for v in row] for row in proba]
    return out_labels, out_proba, f"scikit-learn {sklearn.__version__}"


def _index(labels, p):
    for i, lab in enumerate(labels):
        if lab == p:
            return i
    raise ExportError(f"predict returned {p!r}, which is not in classes_ {labels}")
