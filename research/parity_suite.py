"""The parity suite beyond Iris: models of every kind on other data sets, with the reference
library's own answers, for the Go tests (parity_test.go) to match row for row.

    python research/parity_suite.py [--out testdata/parity]

Writes testdata/parity/<generation>/<data set>/<model>.{json,ubj,model,...} and
<model>.parity.json (classify/golden v2) through classify_export, the exporter users run, where
<generation> names the library versions of the interpreter that runs it, e.g.
sklearn-1.9.1_xgboost-3.2.0. Two generations are committed:

- the pinned current versions (research/requirements.txt): `make parity-suite`, part of
  `make research`, so `make research-check` proves the committed files are what the code makes;
- Debian 12's scikit-learn 1.2.1 and XGBoost 1.7.4 (the compatibility suite):
  `make parity-suite PYTHON=/usr/bin/python3` with python3-sklearn, python3-xgboost and
  python3-pandas installed. Committed, not rebuilt by CI.

Data sets (all from scikit-learn's bundled copies or generated; nothing is downloaded):

- digits: 1797 rows, 64 features, 10 classes (labels "0".."9");
- breast_cancer: 569 rows, 30 features, 2 classes (labels "malignant", "benign");
- missing: make_classification, 600 rows, 12 features, 3 classes with non-contiguous integer
  labels 3, 7, 11, and 5% to 20% of each feature's values missing (NaN). Where the library
  cannot train on NaN (scikit-learn before 1.3 for trees, 1.4 for forests), the trees are
  trained on the data with NaN replaced by each feature's median, and refuse NaN as their
  library does.

Models per data set: decision_tree, random_forest, extra_trees (a random_forest artifact) and
XGBoost saved in every format the version writes (JSON and UBJSON from 1.6 on, the legacy
binary before 3.1), plus variations spread over the data sets: gamma > 0 (pruned trees keep
deleted nodes), an XGBoost random forest (num_parallel_tree > 1), class_weight="balanced".
Parity cases: held-out rows of the data set, then classify_export's edge cases (every split
threshold and the float32/float64 values next to it, NaN in each feature for models that take
it, far-out values), at most MAX_CASES per model.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402  (puts python/ on sys.path)

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
import xgboost  # noqa: E402
from classify_export import export  # noqa: E402
from sklearn import datasets  # noqa: E402
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier  # noqa: E402
from sklearn.tree import DecisionTreeClassifier  # noqa: E402

SEED = 0
MAX_CASES = 600
SAMPLE_ROWS = 200
XGB_MAJOR, XGB_MINOR = (int(v) for v in xgboost.__version__.split(".")[:2])
SK_VERSION = tuple(int(v) for v in sklearn.__version__.split(".")[:2])


def generation():
    return f"sklearn-{sklearn.__version__}_xgboost-{xgboost.__version__}"


def digits():
    d = datasets.load_digits()
    names = [f"pixel_{i // 8}_{i % 8}" for i in range(64)]
    return d.data.astype(np.float64), d.target.astype(int), names, [str(k) for k in range(10)]


def breast_cancer():
    d = datasets.load_breast_cancer()
    names = [n.replace(" ", "_") for n in d.feature_names]
    return d.data.astype(np.float64), d.target.astype(int), names, [str(n) for n in d.target_names]


def missing():
    X, y = datasets.make_classification(n_samples=600, n_features=12, n_informative=6, n_redundant=2,
                                        n_classes=3, n_clusters_per_class=2, random_state=SEED)
    rng = np.random.RandomState(SEED)
    rates = np.linspace(0.05, 0.20, X.shape[1])
    for j, rate in enumerate(rates):
        X[rng.rand(X.shape[0]) < rate, j] = np.nan
    names = [f"x{j}" for j in range(X.shape[1])]
    return X, y.astype(int), names, ["3", "7", "11"]


DATASETS = {"digits": digits, "breast_cancer": breast_cancer, "missing": missing}
# The labels scikit-learn is trained with: the class names as they are (strings) or, for
# "missing", the non-contiguous integers they name.
SKLEARN_LABELS = {"digits": str, "breast_cancer": str, "missing": int}


def split(X, y):
    """A seeded held-out sample for the parity rows; the models are fitted on the rest."""
    rng = np.random.RandomState(SEED)
    idx = rng.permutation(len(y))
    test, train = idx[:SAMPLE_ROWS], idx[SAMPLE_ROWS:]
    return X[train], y[train], X[test]


def sklearn_models(name):
    weight = "balanced" if name == "breast_cancer" else None
    return {
        "decision_tree": DecisionTreeClassifier(random_state=SEED, min_samples_leaf=2, class_weight=weight),
        "random_forest": RandomForestClassifier(n_estimators=20, max_depth=8, random_state=SEED, n_jobs=1),
        "extra_trees": ExtraTreesClassifier(n_estimators=20, max_depth=8, random_state=SEED, n_jobs=1),
    }


def trains_with_nan(est):
    """Whether this scikit-learn version fits this estimator on data holding NaN."""
    if isinstance(est, DecisionTreeClassifier):
        return SK_VERSION >= (1, 3)
    if isinstance(est, RandomForestClassifier):
        return SK_VERSION >= (1, 4)
    return SK_VERSION >= (1, 6)  # ExtraTreesClassifier


def xgboost_models(name):
    common_params = dict(random_state=SEED, n_jobs=1, tree_method="hist")
    models = {"xgboost": xgboost.XGBClassifier(n_estimators=30, max_depth=4, learning_rate=0.3,
                                               gamma=0.5 if name != "digits" else 0.0, **common_params)}
    if name == "missing":
        models["xgboost_rf"] = xgboost.XGBRFClassifier(n_estimators=8, max_depth=5, **common_params)
    return models


def xgboost_formats():
    """The formats this XGBoost writes: legacy binary before 3.1, JSON and UBJSON from 1.6."""
    fmts = []
    if (XGB_MAJOR, XGB_MINOR) < (2, 0):
        fmts.append("binary")
    if (XGB_MAJOR, XGB_MINOR) >= (1, 6):
        fmts += ["json", "ubj"]
    return fmts


def write(out, dataset):
    X, y, features, classes = DATASETS[dataset]()
    Xtr, ytr, Xte = split(X, y)
    d = out / dataset
    d.mkdir(parents=True, exist_ok=True)
    medians = np.nanmedian(Xtr, axis=0)
    for model, est in sklearn_models(dataset).items():
        labels = np.array([SKLEARN_LABELS[dataset](classes[k]) for k in ytr], dtype=object)
        if SKLEARN_LABELS[dataset] is int:
            labels = labels.astype(int)
        fit_X, rows = Xtr, Xte
        if np.isnan(Xtr).any() and not trains_with_nan(est):
            fit_X = np.where(np.isnan(Xtr), medians, Xtr)
            rows = np.where(np.isnan(Xte), medians, Xte)
        est.fit(fit_X, labels)
        report(export(est, d, name=model, features=features, rows=rows, max_cases=MAX_CASES, seed=SEED))
    for model, est in xgboost_models(dataset).items():
        est.fit(Xtr, ytr)
        for fmt in xgboost_formats():
            report(export(est, d, name=f"{model}_{fmt}", features=features, classes=classes, rows=Xte,
                          max_cases=MAX_CASES, seed=SEED, xgb_format=fmt))


def report(r):
    print(f"wrote {r.artifact} ({r.kind}, {len(r.features)} features, {len(r.classes)} classes, "
          f"{'takes' if r.nan_ok else 'refuses'} missing values) and its parity file: {r.cases} cases, {r.reference}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(common.ROOT / "testdata" / "parity"))
    args = ap.parse_args()
    out = Path(args.out) / generation()
    if out.exists():
        shutil.rmtree(out)  # everything in it is generated: nothing stale survives a rerun
    warnings.simplefilter("ignore")
    for name in DATASETS:
        write(out, name)


if __name__ == "__main__":
    main()
