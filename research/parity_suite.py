"""The parity suite beyond Iris: models of every kind on other data sets, with the reference
library's own answers, for the Go tests (parity_test.go) to match row for row.

    python research/parity_suite.py [--out testdata/parity] [--boosting-out testdata/boosting]

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

The boosting families of issue 11 (written when lightgbm is importable, into
testdata/boosting/sklearn-<version>_lightgbm-<version>/<data set>/, a directory of their own
until the Go loaders read them): lightgbm (LightGBM text model + classify/lightgbm-meta),
hist_gradient_boosting (classify/sklearn-hgb) and gradient_boosting (classify/sklearn-gb) on
iris (all 150 rows are the parity rows), digits, breast_cancer, missing and categorical (a
generated set with two integer-coded categorical columns, NaN in every column, and parity rows
holding unseen, negative and fractional categories), plus variations: LightGBM multiclassova and
GradientBoosting init='zero' on iris, LightGBM boosting=rf (average_output) and
zero_as_missing on missing, LightGBM one-hot categorical splits on categorical.
GradientBoostingClassifier does not take NaN: where the data has some, it is trained and
probed with each feature's training median in their place.
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


# ---------------------------------------------------------------------------------------------
# The boosting families of issue 11 (lightgbm, hist_gradient_boosting, gradient_boosting), in a
# directory of their own, testdata/boosting/<generation>/, until the Go loaders read them (the Go
# parity test holds testdata/parity/ to the kinds it serves today). Written when lightgbm is
# importable (the pinned environment), by `make parity-suite`.

BOOSTING_DATASETS = ("iris", "digits", "breast_cancer", "missing", "categorical")
# lightgbm: seeded, single-threaded, deterministic (identical bytes on every rerun)
LGB_COMMON = dict(random_state=SEED, n_jobs=1, deterministic=True, force_col_wise=True, verbose=-1)


def boosting_generation():
    import lightgbm

    return f"sklearn-{sklearn.__version__}_lightgbm-{lightgbm.__version__}"


def iris():
    d = datasets.load_iris()
    names = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    return d.data.astype(np.float64), d.target.astype(int), names, ["setosa", "versicolor", "virginica"]


CATEGORICAL_COLUMNS = [6, 7]


def categorical():
    """make_classification's 6 numeric features (5% to 15% NaN, some exact zeros) and two
    categorical columns holding integer codes (12 and 4 categories, 5% NaN), one of them
    informative; 800 rows, 3 classes labelled "low", "mid", "high"."""
    X, y = datasets.make_classification(n_samples=800, n_features=6, n_informative=4, n_redundant=1,
                                        n_classes=3, n_clusters_per_class=1, random_state=SEED)
    rng = np.random.RandomState(SEED + 1)
    c1 = rng.randint(0, 12, size=len(y)).astype(np.float64)
    # the category says something about the class: a third of the rows get a class-specific code
    pick = rng.rand(len(y)) < 0.35
    c1[pick] = (y[pick] * 4 + rng.randint(0, 4, size=pick.sum())).astype(np.float64)
    c2 = rng.randint(0, 4, size=len(y)).astype(np.float64)
    X = np.column_stack([X, c1, c2])
    for j, rate in enumerate(np.linspace(0.05, 0.15, 6)):
        X[rng.rand(len(y)) < rate, j] = np.nan
    X[rng.rand(len(y)) < 0.05, 0] = 0.0
    for j in CATEGORICAL_COLUMNS:
        X[rng.rand(len(y)) < 0.05, j] = np.nan
    names = [f"x{j}" for j in range(6)] + ["color", "size"]
    return X, y.astype(int), names, ["low", "mid", "high"]


BOOSTING_LOADERS = {"iris": iris, "digits": digits, "breast_cancer": breast_cancer, "missing": missing,
                    "categorical": categorical}


def boosting_rows(dataset, X, Xte):
    """The parity rows: held-out rows (all 150 for Iris, whose models see every row), and for
    the categorical set rows with categories never seen in training (unseen, negative, fractional)."""
    if dataset == "iris":
        return X
    rows = Xte.copy()
    if dataset == "categorical":
        unseen = [12.0, 99.0, -1.0, 2.5, -0.5, 1e6]
        for i, v in enumerate(unseen):
            rows[i, CATEGORICAL_COLUMNS[0]] = v
            rows[len(unseen) + i, CATEGORICAL_COLUMNS[1]] = v
    return rows


def boosting_models(dataset):
    """(name, estimator, fit keyword arguments, takes NaN in training) per model of the data set."""
    import lightgbm
    from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier

    cats = CATEGORICAL_COLUMNS if dataset == "categorical" else None
    n_lgb = 15 if dataset == "digits" else 30
    models = [
        ("lightgbm", lightgbm.LGBMClassifier(n_estimators=n_lgb, num_leaves=8, learning_rate=0.2, **LGB_COMMON),
         {"categorical_feature": cats} if cats else {}, True),
        ("hist_gradient_boosting", HistGradientBoostingClassifier(
            max_iter=n_lgb, max_leaf_nodes=8, learning_rate=0.2, random_state=SEED, early_stopping=False,
            categorical_features=cats), {}, True),
        ("gradient_boosting", GradientBoostingClassifier(
            n_estimators=n_lgb, max_depth=3, learning_rate=0.2, subsample=0.8, random_state=SEED), {}, False),
    ]
    if dataset == "iris":
        models.append(("lightgbm_ova", lightgbm.LGBMClassifier(objective="multiclassova", n_estimators=20,
                                                               num_leaves=4, **LGB_COMMON), {}, True))
        models.append(("gradient_boosting_zero", GradientBoostingClassifier(
            n_estimators=20, max_depth=2, init="zero", random_state=SEED), {}, False))
    if dataset == "missing":
        models.append(("lightgbm_rf", lightgbm.LGBMClassifier(
            boosting_type="rf", n_estimators=10, num_leaves=16, bagging_fraction=0.7, bagging_freq=1,
            feature_fraction=0.8, **LGB_COMMON), {}, True))
        models.append(("lightgbm_zero", lightgbm.LGBMClassifier(
            n_estimators=20, num_leaves=8, zero_as_missing=True, **LGB_COMMON), {}, True))
    if dataset == "categorical":  # LightGBM's one-hot categorical splits (max_cat_to_onehot)
        models.append(("lightgbm_onehot", lightgbm.LGBMClassifier(
            n_estimators=15, num_leaves=8, max_cat_to_onehot=16, **LGB_COMMON),
            {"categorical_feature": cats}, True))
    return models


def fitted_boosting(dataset, only=None):
    """(model name, fitted estimator, feature names, parity rows) for each boosting model of the
    data set (those named in only, when given), fitted as the suite fits them: also what
    contrib_reference.py explains."""
    X, y, features, classes = BOOSTING_LOADERS[dataset]()
    if dataset == "iris":
        Xtr, ytr, Xte = X, y, X
    else:
        Xtr, ytr, Xte = split(X, y)
    rows = boosting_rows(dataset, X, Xte)
    labels = np.array([classes[k] for k in ytr], dtype=object)
    if dataset == "missing":
        labels = labels.astype(int)  # non-contiguous integer labels 3, 7, 11
    medians = np.nanmedian(Xtr, axis=0)
    for model, est, fit_kw, takes_nan in boosting_models(dataset):
        if only is not None and model not in only:
            continue
        fit_X, model_rows = Xtr, rows
        if not takes_nan and np.isnan(Xtr).any():  # GradientBoostingClassifier refuses NaN
            fit_X = np.where(np.isnan(Xtr), medians, Xtr)
            model_rows = np.where(np.isnan(rows), medians, rows)
        est.fit(fit_X, labels, **fit_kw)
        yield model, est, features, model_rows


def write_boosting(root, dataset):
    d = root / dataset
    d.mkdir(parents=True, exist_ok=True)
    for model, est, features, model_rows in fitted_boosting(dataset):
        report(export(est, d, name=model, features=features, rows=model_rows, max_cases=MAX_CASES, seed=SEED))


def report(r):
    print(f"wrote {r.artifact} ({r.kind}, {len(r.features)} features, {len(r.classes)} classes, "
          f"{'takes' if r.nan_ok else 'refuses'} missing values) and its parity file: {r.cases} cases, {r.reference}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(common.ROOT / "testdata" / "parity"))
    ap.add_argument("--boosting-out", default=str(common.ROOT / "testdata" / "boosting"))
    args = ap.parse_args()
    out = Path(args.out) / generation()
    if out.exists():
        shutil.rmtree(out)  # everything in it is generated: nothing stale survives a rerun
    warnings.simplefilter("ignore")
    for name in DATASETS:
        write(out, name)
    try:
        import lightgbm  # noqa: F401
    except ImportError:
        print("lightgbm is not installed: no boosting suite (testdata/boosting/) from this interpreter")
        return
    root = Path(args.boosting_out) / boosting_generation()
    if root.exists():
        shutil.rmtree(root)
    for name in BOOSTING_DATASETS:
        write_boosting(root, name)


if __name__ == "__main__":
    main()
