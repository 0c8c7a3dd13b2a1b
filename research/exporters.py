"""Exporters from fitted estimators to the artifact formats of research/FORMATS.md.

The scikit-learn and XGBoost artifacts are written by classify_export, the exporter package in
python/ that users install to bring their own model: research/ uses the same code, so there is
one exporter. common.py puts the repository's python/ first on sys.path, so a run always uses
the exporter of this checkout (not a stale installed copy). The heuristic's rules are research's
own format and stay here.

Each exporter returns the artifact's bytes, so callers can compare before writing.
"""
from __future__ import annotations

import common  # first: it puts the repository's python/ on sys.path

from classify_export import sklearn_trees, xgb  # noqa: E402


def sklearn_trees_bytes(estimator, features, classes):
    """classify/sklearn-trees v3 for a fitted DecisionTreeClassifier or RandomForestClassifier,
    with missing-value directions when the estimator takes NaN."""
    return sklearn_trees.artifact_bytes(estimator, features, classes, sklearn_trees.accepts_nan(estimator))


def rules_bytes(doc):
    return common.dumps(doc).encode()


def xgboost_model_bytes(classifier):
    """The model exactly as save_model("xgboost.json") writes it (XGBoost's JSON model format)."""
    return xgb.model_bytes(classifier, "json", "the production XGBoost model")


def xgboost_meta_bytes(objective, features, classes):
    """The classify/xgboost-meta v1 sidecar: XGBoost's file does not hold the class names."""
    return xgb.meta_bytes(objective, features, classes)
