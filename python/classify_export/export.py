"""One call from a fitted model to a classify artifact, its parity file and, optionally, a registry entry."""
from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import jsonio, lgbm, loading, parity, registry, sklearn_gb, sklearn_hgb, sklearn_trees, xgb
from .errors import ExportError

SKLEARN_TOLERANCE = 1e-9
LIGHTGBM_TOLERANCE = 1e-9
XGBOOST_TOLERANCE = 1e-6
XGB_FORMATS = ("ubj", "json", "binary")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass
class Result:
    """What export wrote. Paths are absolute or as given; names are file names in out."""

    name: str
    kind: str
    artifact: Path
    meta: Path | None
    parity: Path
    manifest: Path | None
    features: list
    classes: list
    cases: int
    reference: str
    nan_ok: bool
    notes: list = field(default_factory=list)


def _names(what, flag, from_flag, from_model, count, source):
    plural = {"feature": "features", "class": "classes"}[what]
    if from_flag is not None:
        names = list(from_flag)
        if len(names) != count:
            raise ExportError(f"{flag} gives {len(names)} {what} names, but the model has {count} {plural}")
    elif from_model is not None:
        names = list(from_model)
        if len(names) != count:
            raise ExportError(f"{source} names {len(names)} {plural}, but the model has {count}")
    else:
        raise ExportError(f"the model does not name its {count} {plural}; pass {flag} with {count} names")
    for n in names:
        if not isinstance(n, str) or not n.strip():
            raise ExportError(f"{what} names must be non-empty strings (got {n!r})")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ExportError(f"{what} names are not unique: {dup}" +
                          (f" (pass {flag} to name them)" if from_flag is None else ""))
    return names


def raw_suffix(suffix, fmt):
    """The copied XGBoost file's suffix: the user's, unless it would name another format.

    Readers (XGBoost's save_model, classify's loader) tell the format by the
    name: JSON must end in .json, UBJSON in .ubj, the legacy binary in neither.
    """
    if fmt in ("json", "ubj"):
        return loading.XGB_SUFFIX[fmt]
    if not suffix or suffix.lower() in (".json", ".ubj"):
        return loading.XGB_SUFFIX[fmt]
    return suffix


def check_name(name):
    if not name or not _NAME.match(name) or name in (".", ".."):
        raise ExportError(f"model name {name!r}: use letters, digits, '.', '_' and '-', starting with a letter or digit")
    return name


def export(model, out, *, name=None, features=None, classes=None, rows=None, rows_only=False,
           max_cases=parity.DEFAULT_MAX_CASES, seed=0, xgb_format="ubj", registry_dir=None,
           version="1.0.0", created=None, metrics=(), environ=None) -> Result:
    """Export model (a path, or a fitted estimator object) into directory out.

    rows, when given, is a CSV path (header = feature names, empty cell =
    missing) or a sequence of rows (NaN = missing): the parity file's sample rows.

    Writes the artifact, the XGBoost sidecar when there is one, and
    <name>.parity.json; with registry_dir, also copies the artifact (and
    sidecar) there and adds or replaces its manifest entry. Raises ExportError
    for anything wrong with the inputs; nothing is written then.
    """
    if isinstance(model, (str, os.PathLike)):
        loaded = loading.load(model)
        what = str(model)
        default_name = Path(model).stem
        suffix = Path(model).suffix
    else:
        loaded = loading.classify_object(model)
        what = "the estimator"
        default_name = None
        suffix = ""
    if name is None and default_name is None:
        raise ExportError("an in-memory estimator needs a name (name=...)")
    name = check_name(name if name is not None else default_name)
    if xgb_format not in XGB_FORMATS:
        raise ExportError(f"--xgb-format {xgb_format!r}: want one of {', '.join(XGB_FORMATS)}")
    if not re.match(r"^\S+$", version or ""):
        raise ExportError(f"--version {version!r} must be a non-empty word")
    notes = list(loaded.warnings)
    est = loaded.estimator
    files = {}
    meta_name = None

    if loaded.family == "sklearn":
        sklearn_trees.check_fitted(est, what)
        kind = loading.SKLEARN_ESTIMATORS[loaded.estimator_name]
        nf = sklearn_trees.n_features(est)
        labels = sklearn_trees.model_class_labels(est)
        feats = _names("feature", "--features", features, sklearn_trees.model_feature_names(est), nf,
                       "feature_names_in_")
        classes_ = _names("class", "--classes", classes, [str(c) for c in labels], len(labels), "classes_")
        nan_ok = sklearn_trees.accepts_nan(est)
        art_name = f"{name}.json"
        art = sklearn_trees.artifact_bytes(est, feats, classes_, nan_ok)
        splits = sklearn_trees.split_thresholds(est)
        tolerance = SKLEARN_TOLERANCE

        def answer(X):
            return sklearn_trees.reference(est, X, classes_)
    elif loaded.family in ("sklearn_hgb", "sklearn_gb"):
        mod = sklearn_hgb if loaded.family == "sklearn_hgb" else sklearn_gb
        mod.check_fitted(est, what)
        kind = mod.KIND
        nf = mod.n_features(est)
        labels = mod.model_class_labels(est)
        feats = _names("feature", "--features", features, mod.model_feature_names(est), nf, "feature_names_in_")
        classes_ = _names("class", "--classes", classes, [str(c) for c in labels], len(labels), "classes_")
        if mod is sklearn_hgb:
            nan_ok = True  # NaN goes each node's missing_go_to_left way
            art = sklearn_hgb.artifact_bytes(est, feats, classes_, what)
            splits = sklearn_hgb.split_thresholds(est, what)
        else:
            nan_ok = sklearn_gb.accepts_nan(est)
            if nan_ok:
                raise ExportError(f"{what}: this scikit-learn's GradientBoostingClassifier takes NaN, "
                                  f"which classify/sklearn-gb v{sklearn_gb.FORMAT_VERSION} does not describe")
            art = sklearn_gb.artifact_bytes(est, feats, classes_)
            splits = sklearn_gb.split_thresholds(est)
        art_name = f"{name}.json"
        tolerance = SKLEARN_TOLERANCE

        def answer(X):
            return mod.reference(est, X, classes_)
    elif loaded.family == "lightgbm":
        booster = lgbm.booster_of(est, what)
        text = loaded.raw_bytes.decode("utf-8") if loaded.raw_bytes is not None else lgbm.model_text(booster)
        lgbm.check_supported(text, what)
        kind = "lightgbm"
        nf = lgbm.n_features(text)
        k = lgbm.n_classes(text)
        feats = _names("feature", "--features", features, lgbm.model_feature_names(text), nf, "the model")
        # an LGBMClassifier keeps its labels in Python; a Booster (object or file) has none
        model_classes = [str(c) for c in est.classes_] if type(est).__name__ == "LGBMClassifier" else None
        classes_ = _names("class", "--classes", classes, model_classes, k, "classes_")
        nan_ok = True  # LightGBM routes NaN in every model (as missing, or as 0.0)
        art = text.encode("utf-8")
        art_name = name + (suffix if loaded.raw_bytes is not None and suffix else ".txt")
        ref_booster = lgbm.booster_from_text(text, what)
        check = est if loaded.raw_bytes is None else None
        meta_name = art_name + ".meta.json"
        files[meta_name] = lgbm.meta_bytes(lgbm.objective(text), feats, classes_)
        splits = lgbm.split_thresholds(ref_booster)
        tolerance = LIGHTGBM_TOLERANCE

        def answer(X):
            return lgbm.reference(ref_booster, X, classes_, check)
    else:
        xgb.check_supported(est, what)
        booster = est.get_booster()
        kind = "xgboost"
        nf = xgb.n_features(booster)
        k = xgb.n_classes(booster)
        feats = _names("feature", "--features", features, xgb.model_feature_names(booster), nf, "the booster")
        model_classes = None if loaded.raw_bytes is not None else [str(c) for c in getattr(est, "classes_", range(k))]
        classes_ = _names("class", "--classes", classes, model_classes, k, "classes_")
        nan_ok = True
        if loaded.raw_bytes is not None:
            art, fmt = loaded.raw_bytes, loaded.raw_format
            art_name = name + raw_suffix(suffix, fmt)
            ref_clf, check = est, None
        else:
            fmt = xgb_format
            art = xgb.model_bytes(est, fmt, what)
            art_name = name + loading.XGB_SUFFIX[fmt]
            ref_clf, check = xgb.reloaded(art, fmt, type(est), what), est
        obj = xgb.objective(booster)
        meta_name = art_name + ".meta.json"
        files[meta_name] = xgb.meta_bytes(obj, feats, classes_)
        splits = xgb.split_thresholds(booster)
        tolerance = XGBOOST_TOLERANCE

        def answer(X):
            return xgb.reference(ref_clf, X, classes_, check)

    files = {art_name: art, **files}
    if rows is None:
        sample = None
    elif isinstance(rows, (str, os.PathLike)):
        sample = parity.read_rows(rows, feats, nan_ok)
    else:
        sample = parity.check_rows(rows, nf, nan_ok)
    cases = parity.build_cases(feats, splits, nan_ok, rows=sample, rows_only=rows_only, seed=seed,
                               max_cases=max_cases)
    if cases:
        X = np.array([x for _, x in cases], dtype=np.float64).reshape(len(cases), nf)
        pred, proba, reference = answer(X)
    else:
        pred, proba, reference = [], [], answer(np.zeros((1, nf)))[2]
    for p in proba:
        if not all(math.isfinite(v) for v in p):
            raise ExportError("the reference library returned a non-finite probability")
    art_sha = jsonio.sha256_bytes(art)
    parity_name = f"{name}.parity.json"
    files[parity_name] = parity.document_text(name, kind, art_name, art_sha, reference, tolerance, feats,
                                              classes_, cases, pred, proba).encode()

    entry = None
    if registry_dir is not None:
        entry = {"name": name, "kind": kind, "file": art_name, "sha256": art_sha}
        if meta_name:
            entry["meta_sha256"] = jsonio.sha256_bytes(files[meta_name])
        entry.update({"version": version, "created": registry.created_time(created, environ),
                      "features": feats, "classes": classes_, "metrics": list(metrics)})
        reg_files = {art_name: art}
        if meta_name:
            reg_files[meta_name] = files[meta_name]
        manifest_doc = registry.plan(registry_dir, reg_files, entry)

    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        for fname, data in files.items():
            registry.write_atomic(out / fname, data)
    except OSError as e:
        raise ExportError(f"{out}: cannot write: {e.strerror or e}") from None
    manifest = None
    if entry is not None:
        manifest = registry.write(registry_dir, reg_files, manifest_doc)
    return Result(name=name, kind=kind, artifact=out / art_name, meta=(out / meta_name) if meta_name else None,
                  parity=out / parity_name, manifest=manifest, features=feats, classes=classes_,
                  cases=len(cases), reference=reference, nan_ok=nan_ok, notes=notes)
