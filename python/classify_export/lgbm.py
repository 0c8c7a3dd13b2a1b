"""LightGBM: the text model file as LightGBM writes it, plus the classify/lightgbm-meta v1 sidecar.

The model file is what `Booster.save_model()` writes (LightGBM 4 writes `version=v4`); the Go
side reads it itself. Beside it, `<file>.meta.json` names the classes (the text file holds no
class labels: an LGBMClassifier keeps `classes_` in Python only) and the features (the file's
`feature_names` are `Column_0..` unless the model was trained with names).
"""
from __future__ import annotations

import math
import os
import re
import tempfile
import warnings
from pathlib import Path

import numpy as np

from . import jsonio
from .errors import ExportError

META_FORMAT = "classify/lightgbm-meta"
META_FORMAT_VERSION = 1
OBJECTIVES = ("binary", "multiclass", "multiclassova")
# LightGBM's kZeroThreshold (include/LightGBM/meta.h): the float literal 1e-35f, used as a double.
K_ZERO_THRESHOLD = float(np.float32(1e-35))
TEXT_MAGIC = b"tree\nversion="


def is_text_model(data: bytes) -> bool:
    return data.startswith(TEXT_MAGIC) or data.startswith(TEXT_MAGIC.replace(b"\n", b"\r\n"))


def booster_of(obj, what):
    """The lightgbm.Booster of an LGBMClassifier or a Booster itself."""
    if type(obj).__name__ == "Booster":
        return obj
    try:
        return obj.booster_
    except Exception:
        raise ExportError(f"{what}: the {type(obj).__name__} is not fitted") from None


def booster_from_text(text: str, what: str):
    try:
        import lightgbm
    except ImportError as e:
        raise ExportError(f"{what}: reading a LightGBM model needs the lightgbm package ({e})") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return lightgbm.Booster(model_str=text)
    except Exception as e:  # lightgbm.basic.LightGBMError
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ExportError(f"{what}: lightgbm {lightgbm.__version__} cannot load this model: {first}") from None


def model_text(booster) -> str:
    """The model as Booster.save_model writes it to a file (the best iteration when there is one)."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "model.txt")
        booster.save_model(path)
        return Path(path).read_text(encoding="utf-8")


def _header(text):
    head = {}
    for line in text.split("\n"):
        line = line.rstrip("\r")
        if line.startswith("Tree="):
            break
        if "=" in line:
            k, v = line.split("=", 1)
            head[k] = v
        elif line:
            head[line] = ""
    return head


def objective(text) -> str:
    """The objective's name (first word of the header's objective= line)."""
    return _header(text).get("objective", "").split(" ")[0]


def check_supported(text, what):
    """ExportError unless classify can serve this model as LightGBM predicts it."""
    head = _header(text)
    if head.get("version") != "v4" and head.get("version") not in ("v2", "v3"):
        raise ExportError(f"{what}: LightGBM model version {head.get('version')!r} is not one classify reads (v2 to v4)")
    obj = head.get("objective", "").split(" ")[0]
    if obj not in OBJECTIVES:
        shown = obj or "none (a custom objective)"
        raise ExportError(f"{what}: objective {shown} is not supported (supported: {', '.join(OBJECTIVES)}): "
                          "classify serves classifiers whose probabilities LightGBM computes itself")
    if re.search(r"^is_linear=1\s*$", text, re.M):
        raise ExportError(f"{what}: linear trees (linear_tree=true) are not supported: retrain without linear_tree")
    m = re.search(r"^pandas_categorical:(.*)$", text, re.M)
    if m and m.group(1).strip() not in ("null", "[]", ""):
        raise ExportError(f"{what}: the model was trained on a pandas DataFrame with category columns, whose "
                          "categories LightGBM maps to codes in Python only; classify feeds the numbers as they "
                          "are: retrain with the integer codes in numeric columns and categorical_feature=")


def n_classes(text) -> int:
    k = int(_header(text).get("num_class", "1"))
    return 2 if k == 1 else k


def n_features(text) -> int:
    return int(_header(text)["max_feature_idx"]) + 1


def model_feature_names(text):
    names = _header(text).get("feature_names", "")
    return names.split(" ") if names else None


def meta_bytes(obj, features, classes) -> bytes:
    import lightgbm

    doc = {
        "format": META_FORMAT,
        "format_version": META_FORMAT_VERSION,
        "library": f"lightgbm {lightgbm.__version__}",
        "objective": obj,
        "features": list(features),
        "classes": list(classes),
    }
    return jsonio.dumps_indented(doc).encode()


def _walk(node, out, cats):
    if "split_feature" not in node:
        return
    fi = int(node["split_feature"])
    if node["decision_type"] == "==":
        for c in str(node["threshold"]).split("||"):
            cats.add((fi, float(int(c))))
    else:
        out.add((fi, float(node["threshold"])))
    _walk(node["left_child"], out, cats)
    _walk(node["right_child"], out, cats)


def split_thresholds(booster):
    """(feature, value) probes: every numerical threshold, every category of a categorical split
    with the category above the largest and -1, and for every feature split on 0 and
    +/-kZeroThreshold (zero as missing: LightGBM treats |x| <= kZeroThreshold as 0)."""
    model = booster.dump_model()
    out, cats = set(), set()
    for t in model["tree_info"]:
        _walk(t["tree_structure"], out, cats)
    used = {fi for fi, _ in out} | {fi for fi, _ in cats}
    for fi in used:
        out.update({(fi, 0.0), (fi, K_ZERO_THRESHOLD), (fi, -K_ZERO_THRESHOLD)})
    for fi in {fi for fi, _ in cats}:
        top = max(c for f, c in cats if f == fi)
        out.update({(fi, top + 1.0), (fi, -1.0)})
    return sorted(out | cats)


def predict_proba(booster, X, k):
    """predict_proba as LGBMClassifier computes it from the booster's output."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = booster.predict(X)
    p = np.asarray(p, dtype=np.float64)
    if k == 2:
        return np.vstack((1.0 - p, p)).T
    return p


def reference(booster, X, classes, check=None):
    """LightGBM's own answers on X from the booster loaded back from the artifact.

    Probabilities as LGBMClassifier.predict_proba gives them ([1-p, p] for binary, the
    booster's rows otherwise), labels its predict: the first arg max. check, when given, is the
    user's LGBMClassifier or Booster, which must give identical probabilities and labels.
    """
    import lightgbm

    k = len(classes)
    proba = predict_proba(booster, X, k)
    if proba.ndim != 2 or proba.shape[1] != k:
        raise ExportError(f"LightGBM gives {proba.shape[-1]} columns, but there are {k} classes")
    idx = np.argmax(proba, axis=1)
    if check is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if type(check).__name__ == "Booster":
                other, other_idx = predict_proba(check, X, k), None
            else:
                other = check.predict_proba(X)
                other_idx = [list(check.classes_).index(v) for v in check.predict(X)]
        if not np.array_equal(proba, other):
            raise RuntimeError("the saved LightGBM model predicts differently from the fitted one")
        if other_idx is not None and list(idx) != other_idx:
            raise RuntimeError("LGBMClassifier.predict disagrees with the arg max of predict_proba")
    for row in proba:
        if not all(math.isfinite(v) for v in row):
            raise ExportError("LightGBM returned a non-finite probability")
    return ([classes[int(i)] for i in idx], [[float(v) for v in row] for row in proba],
            f"lightgbm {lightgbm.__version__}")
