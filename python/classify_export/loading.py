"""Reading the user's file: a pickled or joblib-dumped estimator, or an XGBoost model file."""
from __future__ import annotations

import io
import json
import os
import pickle
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from . import lgbm
from .errors import ExportError

SKLEARN_ESTIMATORS = {
    # exact class name -> classify kind
    "DecisionTreeClassifier": "decision_tree",
    "RandomForestClassifier": "random_forest",
    "ExtraTreesClassifier": "random_forest",
}
XGBOOST_ESTIMATORS = ("XGBClassifier", "XGBRFClassifier")
# scikit-learn's boosting estimators: exact class name -> (family, classify kind)
SKLEARN_BOOSTING = {
    "HistGradientBoostingClassifier": ("sklearn_hgb", "hist_gradient_boosting"),
    "GradientBoostingClassifier": ("sklearn_gb", "gradient_boosting"),
}
LIGHTGBM_ESTIMATORS = ("LGBMClassifier", "Booster")
SUPPORTED = ", ".join(list(SKLEARN_ESTIMATORS) + list(SKLEARN_BOOSTING) + list(XGBOOST_ESTIMATORS)
                      + ["LGBMClassifier", "lightgbm.Booster"])

# Canonical file suffix of each XGBoost model format.
XGB_SUFFIX = {"json": ".json", "ubj": ".ubj", "binary": ".model"}
# Objectives classify serves (xgb.go).
XGB_OBJECTIVES = ("multi:softprob", "multi:softmax", "binary:logistic")


@dataclass
class Loaded:
    """What the input file held.

    family is "sklearn" (trees and forests), "sklearn_hgb", "sklearn_gb", "lightgbm" or
    "xgboost". For LightGBM, estimator is an LGBMClassifier or a Booster, and raw_bytes the
    text model file when the input was one. For XGBoost, estimator is an
    XGBClassifier (or XGBRFClassifier); raw_bytes and raw_format are set when
    the input was an XGBoost model file (exported unchanged), None for a
    pickled estimator.
    """

    family: str
    estimator: object
    estimator_name: str
    raw_bytes: bytes | None = None
    raw_format: str | None = None
    warnings: tuple = ()


def xgboost_format(data: bytes) -> str | None:
    """'json', 'ubj' or 'binary' when data looks like an XGBoost model file, else None."""
    if data[:4] == b"binf":
        return "binary"
    if data[:1] == b"{":
        try:
            doc = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return "ubj"  # UBJSON objects start with '{' too, then a type marker
        return "json" if isinstance(doc, dict) and "learner" in doc else None
    return None


def load_xgboost_bytes(data: bytes, fmt: str, what: str, cls=None):
    """An XGBClassifier (or cls) loaded from XGBoost model bytes in format fmt."""
    try:
        import xgboost
    except ImportError as e:
        raise ExportError(f"{what}: reading an XGBoost model needs the xgboost package ({e})") from None
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "model" + XGB_SUFFIX[fmt])
        Path(path).write_bytes(data)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                booster = xgboost.Booster(model_file=path)
            objective = json.loads(booster.save_config())["learner"]["objective"]["name"]
        except Exception as e:  # xgboost.core.XGBoostError and friends
            raise _load_error(e, fmt, what, xgboost.__version__) from None
        if objective not in XGB_OBJECTIVES:
            raise ExportError(f"{what}: objective {objective} is not supported (supported: {', '.join(XGB_OBJECTIVES)})")
        clf = (cls or xgboost.XGBClassifier)()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                clf.load_model(path)
        except Exception as e:
            raise _load_error(e, fmt, what, xgboost.__version__) from None
    return clf


def _load_error(e, fmt, what, version):
    first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    hint = ""
    if fmt == "binary":
        hint = (f" (xgboost reads the legacy binary format only before 3.1; this is {version}: "
                "load it with an older xgboost and save it as .json or .ubj)")
    return ExportError(f"{what}: xgboost {version} cannot load this {fmt} model: {first}{hint}")


def _unpickle(data: bytes, what: str):
    errors = []
    try:
        import joblib
    except ImportError:
        joblib = None
    if joblib is not None:
        try:
            return joblib.load(io.BytesIO(data))
        except (ModuleNotFoundError, ImportError) as e:
            raise ExportError(f"{what}: unpickling needs a module that is not installed: {e}") from None
        except Exception as e:  # joblib raises many kinds on foreign bytes
            errors.append(f"joblib: {type(e).__name__}: {e}")
    try:
        return pickle.loads(data)
    except (ModuleNotFoundError, ImportError) as e:
        raise ExportError(f"{what}: unpickling needs a module that is not installed: {e}") from None
    except Exception as e:
        errors.append(f"pickle: {type(e).__name__}: {e}")
    raise ExportError(f"{what}: not a joblib or pickle file, nor an XGBoost model (json, ubj, legacy binary), "
                      "nor a LightGBM text model: "
                      + "; ".join(errors))


def load(path) -> Loaded:
    """Read path and tell what it holds; ExportError when it is unreadable or unsupported."""
    what = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise ExportError(f"{what}: cannot read: {e.strerror or e}") from None
    if not data:
        raise ExportError(f"{what}: the file is empty")
    if lgbm.is_text_model(data):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ExportError(f"{what}: a LightGBM text model that is not UTF-8") from None
        booster = lgbm.booster_from_text(text, what)
        return Loaded("lightgbm", booster, "LightGBM model file", raw_bytes=data, raw_format="text")
    fmt = xgboost_format(data)
    if fmt is not None:
        clf = load_xgboost_bytes(data, fmt, what)
        return Loaded("xgboost", clf, "XGBoost model file", raw_bytes=data, raw_format=fmt)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        obj = _unpickle(data, what)
    notes = tuple(sorted({str(w.message).splitlines()[0] for w in caught}))
    return classify_object(obj, what, notes)


def classify_object(obj, what="the estimator", notes=()) -> Loaded:
    """Loaded for an in-memory estimator; ExportError for anything unsupported."""
    cls = type(obj)
    name, module = cls.__name__, cls.__module__ or ""
    if module.startswith("sklearn.pipeline") or name == "Pipeline":
        raise ExportError(
            f"{what}: a scikit-learn Pipeline is not supported: classify serves the final estimator alone "
            "and does not run preprocessing steps. Export the last step (pipeline[-1]) after applying the "
            "earlier steps to your data yourself, or train the model on the raw features.")
    if module.startswith("sklearn.") and name in SKLEARN_ESTIMATORS:
        return Loaded("sklearn", obj, name, warnings=notes)
    if module.startswith("sklearn.") and name in SKLEARN_BOOSTING:
        return Loaded(SKLEARN_BOOSTING[name][0], obj, name, warnings=notes)
    if module.startswith("lightgbm") and name in LIGHTGBM_ESTIMATORS:
        return Loaded("lightgbm", obj, name, warnings=notes)
    if module.startswith("xgboost.") and name in XGBOOST_ESTIMATORS:
        return Loaded("xgboost", obj, name, warnings=notes)
    shown = f"{module}.{name}" if module else name
    raise ExportError(f"{what}: unsupported estimator type {shown} (supported: {SUPPORTED}, "
                      "an XGBoost model file: .json, .ubj, legacy binary, or a LightGBM text model file)")
