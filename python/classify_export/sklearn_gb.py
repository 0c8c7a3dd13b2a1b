"""classify/sklearn-gb v2 from a fitted GradientBoostingClassifier.

Per stage per class the DecisionTreeRegressor's tree_ arrays, the learning rate, and the init
raw prediction exactly as scikit-learn computes it (for the default prior init, the
DummyClassifier's class priors through the loss's link; for init='zero', zeros). Other init
estimators give a raw prediction that depends on the row: refused. Version 2 adds each stage
tree's node covers and impurities (n_node_samples, weighted_n_node_samples, impurity), as
classify/sklearn-trees v3 does.
"""
from __future__ import annotations

import warnings

import numpy as np

from . import jsonio
from .errors import ExportError
# shared with the trees and forests: the same estimator attributes, the same tree_ arrays, the same
# scikit-learn predict/predict_proba reference
from .sklearn_trees import (model_class_labels, model_feature_names, n_features, predict_takes_nan,  # noqa: F401
                            reference, tree_arrays, tree_splits)

FORMAT = "classify/sklearn-gb"
FORMAT_VERSION = 2
ESTIMATOR = "GradientBoostingClassifier"
KIND = "gradient_boosting"


def check_fitted(est, what):
    if not hasattr(est, "estimators_") or not hasattr(est, "classes_"):
        raise ExportError(f"{what}: the {ESTIMATOR} is not fitted")
    if est.loss != "log_loss":
        raise ExportError(f"{what}: loss {est.loss!r} is not supported (only log_loss)")
    init = est.init_
    if not (isinstance(init, str) and init == "zero"):
        if type(init).__name__ != "DummyClassifier" or getattr(init, "strategy", None) != "prior":
            raise ExportError(f"{what}: init estimator {type(init).__name__} is not supported: classify serves "
                              "the default init (the class prior, DummyClassifier(strategy='prior')) or init='zero'")
    k = est.estimators_.shape[1]
    if k != (1 if len(est.classes_) == 2 else len(est.classes_)):
        raise ExportError(f"{what}: {k} trees per stage for {len(est.classes_)} classes")


def init_raw(est):
    """The init raw prediction, one per class tree, from scikit-learn's own _raw_predict_init."""
    row = np.zeros((1, n_features(est)), dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = est._raw_predict_init(row)
    return np.asarray(raw, dtype=np.float64).reshape(-1).tolist()


def _tree_dict(reg):
    t = reg.tree_
    if t.n_outputs != 1 or t.value.shape[1:] != (1, 1):
        raise ExportError("a stage's regression tree is not single-output")
    return tree_arrays(t, t.value[:, 0, 0])


def document(est, features, classes):
    import sklearn

    k = est.estimators_.shape[1]
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "estimator": ESTIMATOR,
        "kind": KIND,
        "library": f"scikit-learn {sklearn.__version__}",
        "features": list(features),
        "classes": list(classes),
        "link": "logistic" if k == 1 else "softmax",
        "init": "zero" if isinstance(est.init_, str) else "prior",
        "init_raw": init_raw(est),
        "learning_rate": float(est.learning_rate),
        "stages": [[_tree_dict(reg) for reg in stage] for stage in est.estimators_],
    }


def artifact_bytes(est, features, classes) -> bytes:
    return jsonio.dumps_compact(document(est, features, classes), convert=False).encode()


def accepts_nan(est) -> bool:
    """Whether predict_proba takes a row holding NaN (scikit-learn 1.9.1: it does not)."""
    return predict_takes_nan(est)


def split_thresholds(est):
    return tree_splits(reg.tree_ for stage in est.estimators_ for reg in stage)
