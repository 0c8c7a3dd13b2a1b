"""Exporters from fitted estimators to the artifact formats of research/FORMATS.md.

Each exporter returns the artifact's bytes, so callers can compare before writing.
"""
from __future__ import annotations

import json
import os
import tempfile

import numpy as np
import sklearn
import xgboost

import common


def _tree_dict(tree):
    t = tree.tree_
    if t.n_outputs != 1:
        raise ValueError("multi-output trees are not supported")
    return {
        "children_left": [int(v) for v in t.children_left],
        "children_right": [int(v) for v in t.children_right],
        "feature": [int(v) for v in t.feature],
        "threshold": [float(v) for v in t.threshold],
        "value": [[float(c) for c in row] for row in t.value[:, 0, :]],
    }


def sklearn_trees_bytes(estimator, kind, features, classes):
    """classify/sklearn-trees v1 for a fitted DecisionTreeClassifier or RandomForestClassifier."""
    if kind == "decision_tree":
        trees = [estimator]
    elif kind == "random_forest":
        trees = list(estimator.estimators_)
    else:
        raise ValueError(f"unknown kind {kind}")
    if [int(c) for c in estimator.classes_] != list(range(len(classes))):
        raise ValueError(f"estimator classes {estimator.classes_} are not 0..{len(classes) - 1}")
    doc = {
        "format": "classify/sklearn-trees",
        "format_version": 1,
        "kind": kind,
        "library": f"scikit-learn {sklearn.__version__}",
        "features": list(features),
        "classes": list(classes),
        "trees": [_tree_dict(t) for t in trees],
    }
    # Compact (one line per key would make a forest file huge); json writes floats with repr.
    return (json.dumps(common.to_jsonable(doc), separators=(",", ":"), allow_nan=False) + "\n").encode()


def rules_bytes(doc):
    return common.dumps(doc).encode()


def xgboost_model_bytes(booster):
    """The native binary model exactly as Booster.save_model("xgboost.model") writes it."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "xgboost.model")  # non-.json extension: binary format in 1.7.4
        booster.save_model(path)
        with open(path, "rb") as f:
            data = f.read()
    if data[:4] != b"binf":
        raise ValueError(f"xgboost binary model does not start with b'binf': {data[:4]!r}")
    return data


def xgboost_meta_bytes(objective, features, classes):
    doc = {
        "format": "classify/xgboost-meta",
        "format_version": 1,
        "library": f"xgboost {xgboost.__version__}",
        "objective": objective,
        "features": list(features),
        "classes": list(classes),
    }
    return common.dumps(doc).encode()


def xgboost_split_thresholds(booster):
    """Sorted unique (feature index, float32 split condition as float) of all split nodes.

    Taken from the JSON model (save_raw), whose split_conditions are float32 values printed
    to round-trip; they are converted back through numpy.float32 so the float64 returned is
    exactly the float32 XGBoost compares against.
    """
    model = json.loads(booster.save_raw(raw_format="json"))
    out = set()
    for tree in model["learner"]["gradient_booster"]["model"]["trees"]:
        for left, idx, cond in zip(tree["left_children"], tree["split_indices"], tree["split_conditions"]):
            if left != -1:
                out.add((int(idx), float(np.float32(cond))))
    return sorted(out)
