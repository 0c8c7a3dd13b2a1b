"""XGBoost: the model file as XGBoost writes it, plus the classify/xgboost-meta v1 sidecar."""
from __future__ import annotations

import json
import math
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

from . import jsonio
from .errors import ExportError
from .loading import XGB_OBJECTIVES, XGB_SUFFIX, load_xgboost_bytes

META_FORMAT = "classify/xgboost-meta"
META_FORMAT_VERSION = 1
OBJECTIVES = XGB_OBJECTIVES


def booster_of(clf, what):
    try:
        return clf.get_booster()
    except Exception:
        raise ExportError(f"{what}: the {type(clf).__name__} is not fitted") from None


def config(booster):
    return json.loads(booster.save_config())


def objective(booster) -> str:
    return config(booster)["learner"]["objective"]["name"]


def check_supported(clf, what):
    """ExportError unless classify can serve this XGBoost classifier as XGBoost predicts."""
    booster = booster_of(clf, what)
    cfg = config(booster)["learner"]
    obj = cfg["objective"]["name"]
    if obj not in OBJECTIVES:
        raise ExportError(f"{what}: objective {obj} is not supported (supported: {', '.join(OBJECTIVES)})")
    gb = cfg["gradient_booster"]["name"]
    if gb != "gbtree":
        raise ExportError(f"{what}: booster {gb} is not supported (only gbtree)")
    params = cfg.get("learner_model_param", {})
    n_target = int(params.get("num_target", "1") or 1)
    if n_target != 1:
        raise ExportError(f"{what}: the model is multi-output ({n_target} targets); classify serves one output per model")
    types = booster.feature_types
    if types and any(t == "c" for t in types):
        raise ExportError(f"{what}: categorical features are not supported")
    missing = clf.get_params().get("missing", np.nan)
    if missing is not None and not (isinstance(missing, float) and math.isnan(missing)):
        raise ExportError(f"{what}: missing={missing!r}: classify treats only NaN as missing; retrain with missing=nan")
    best = booster.attributes().get("best_iteration")
    rounds = booster.num_boosted_rounds()
    if best is not None and int(best) + 1 < rounds:
        raise ExportError(
            f"{what}: the model was trained with early stopping and predicts with the first {int(best) + 1} of its "
            f"{rounds} rounds; the file holds all of them. Slice it first: booster[:{int(best) + 1}]")


def n_classes(booster) -> int:
    cfg = config(booster)["learner"]
    k = int(cfg.get("learner_model_param", {}).get("num_class", "0") or 0)
    return k if k >= 2 else 2


def n_features(booster) -> int:
    return int(booster.num_features())


def model_feature_names(booster):
    names = booster.feature_names
    return None if not names else [str(n) for n in names]


def model_bytes(clf, fmt: str, what: str) -> bytes:
    """The classifier's booster as XGBoost's save_model writes it in format fmt."""
    import xgboost

    if fmt == "binary" and int(xgboost.__version__.split(".")[0]) >= 2:
        raise ExportError(f"{what}: xgboost {xgboost.__version__} does not write the legacy binary format; "
                          "use --xgb-format ubj or json")
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "model" + XGB_SUFFIX[fmt])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf.save_model(path)
        return Path(path).read_bytes()


def meta_bytes(obj, features, classes) -> bytes:
    import xgboost

    doc = {
        "format": META_FORMAT,
        "format_version": META_FORMAT_VERSION,
        "library": f"xgboost {xgboost.__version__}",
        "objective": obj,
        "features": list(features),
        "classes": list(classes),
    }
    return jsonio.dumps_indented(doc).encode()


def reloaded(data: bytes, fmt: str, cls, what: str):
    """The classifier as the artifact's bytes load: what the reference answers come from."""
    return load_xgboost_bytes(data, fmt, what, cls)


def split_thresholds(booster):
    """Sorted unique (feature index, split condition) of all split nodes.

    From the JSON dump, whose split_conditions are float32 values printed to
    round-trip; converted back through numpy.float32 so the float returned is
    exactly the float32 XGBoost compares against.
    """
    model = json.loads(booster.save_raw(raw_format="json"))
    out = set()
    for tree in model["learner"]["gradient_booster"]["model"]["trees"]:
        for left, idx, cond in zip(tree["left_children"], tree["split_indices"], tree["split_conditions"]):
            if left != -1:
                out.add((int(idx), float(np.float32(cond))))
    return sorted(out)


def predict_frame(booster, X):
    names = booster.feature_names
    if not names:
        return X
    try:
        import pandas as pd
    except ImportError:
        return X
    return pd.DataFrame(X, columns=list(names))


def reference(clf, X, classes, check=None):
    """XGBoost's own predict and predict_proba on X (labels as class names).

    check, when given, is another classifier (the user's pickled one) that must
    give the identical probabilities.
    """
    import xgboost

    booster = clf.get_booster()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = predict_frame(booster, X)
        pred = clf.predict(frame)
        proba = clf.predict_proba(frame)
        if check is not None:
            other = check.predict_proba(predict_frame(check.get_booster(), X))
            if not np.array_equal(proba, other):
                raise RuntimeError("the saved XGBoost model predicts differently from the pickled one")
    if proba.ndim != 2 or proba.shape[1] != len(classes):
        raise ExportError(f"predict_proba gives {proba.shape[-1]} columns, but there are {len(classes)} classes")
    labels = [classes[int(p)] for p in pred]
    return labels, [[float(v) for v in row] for row in proba], f"xgboost {xgboost.__version__}"
