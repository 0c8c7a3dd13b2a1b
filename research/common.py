"""Shared helpers for the research scripts: paths, data loading, validation and JSON output.

Every script in research/ imports this module. Paths are resolved relative to the repository
root that contains this file, so running the scripts inside a copy of the repository (as
`make research-check` does) writes only inside that copy.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
from pathlib import Path

import sys

import numpy as np

RESEARCH = Path(__file__).resolve().parent
ROOT = RESEARCH.parent
# The exporter package (python/classify_export) of this checkout, ahead of any installed copy.
sys.path.insert(0, str(ROOT / "python"))
DATA_CSV = RESEARCH / "data" / "iris.csv"
RESULTS = RESEARCH / "results"
CANDIDATES = RESEARCH / "models"
REGISTRY = ROOT / "models"
GOLDEN = ROOT / "testdata" / "golden"

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
CLASSES = ["setosa", "versicolor", "virginica"]
NAMES = ["heuristic", "decision_tree", "random_forest", "xgboost"]

SEED = 42
# Repeated stratified k-fold used by every experiment.
KFOLD_K = 5
KFOLD_REPEATS = 10
KFOLD_METHOD = f"repeated_stratified_kfold(k={KFOLD_K},repeats={KFOLD_REPEATS})"
LOOCV_METHOD = "loocv"
OOB_METHOD = "out_of_bag"


def load_iris_csv():
    """Return (X float64 array [n,4], y int array of class indices, DataFrame)."""
    import pandas as pd

    df = pd.read_csv(DATA_CSV)
    if list(df.columns) != FEATURES + ["species"]:
        raise SystemExit(f"{DATA_CSV}: unexpected header {list(df.columns)}")
    X = df[FEATURES].to_numpy(dtype=np.float64)
    y = df["species"].map({c: i for i, c in enumerate(CLASSES)}).to_numpy()
    if np.isnan(y.astype(float)).any():
        raise SystemExit(f"{DATA_CSV}: unknown species")
    return X, y.astype(np.int64), df


def add_derived(X):
    """Raw features plus derived ones (tried in the experiments, not used in production)."""
    sl, sw, pl, pw = X[:, 0], X[:, 1], X[:, 2], X[:, 3]
    derived = np.column_stack([pl * pw, sl * sw, pl / pw, sl / sw])
    return np.column_stack([X, derived])


DERIVED_FEATURES = FEATURES + ["petal_area", "sepal_area", "petal_ratio", "sepal_ratio"]


def to_jsonable(obj):
    """Convert numpy scalars/arrays to Python types so json writes floats with repr (the
    exporter's own conversion, so artifacts and research outputs are written alike)."""
    from classify_export.jsonio import to_jsonable as convert

    return convert(obj)


def dumps(obj, indent=2):
    return json.dumps(to_jsonable(obj), indent=indent, allow_nan=False) + "\n"


def write_json(path, obj, indent=2):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(obj, indent))


def write_text(path, text):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def sha256_bytes(b):
    return hashlib.sha256(b).hexdigest()


def sha256_file(path):
    return sha256_bytes(Path(path).read_bytes())


def rel(path):
    """Path relative to the repository root, with forward slashes."""
    return Path(path).resolve().relative_to(ROOT).as_posix()


def library_versions():
    import matplotlib
    import pandas
    import sklearn
    import xgboost

    return {
        # major.minor only: the patch release (Debian's 3.11.2, pyenv's 3.11.7) does not change
        # a result, and research-check must not fail on which 3.11 made the environment.
        "python": ".".join(platform.python_version_tuple()[:2]),
        "numpy": np.__version__,
        "pandas": pandas.__version__,
        "scikit-learn": sklearn.__version__,
        "xgboost": xgboost.__version__,
        "matplotlib": matplotlib.__version__,
    }


def summarize_scores(scores):
    scores = np.asarray(scores, dtype=np.float64)
    return {"mean": float(scores.mean()), "std": float(scores.std(ddof=0)), "n_folds": int(scores.size)}


def setup_matplotlib():
    """Agg backend with metadata stripped so saved PNGs are byte-identical across runs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def savefig(fig, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=80, metadata={"Software": None}, bbox_inches="tight")


def single_thread_env():
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
