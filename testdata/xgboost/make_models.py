#!/usr/bin/python3
"""Make the XGBoost test models of the classify package and XGBoost's own answers.

One script, run under three Pythons, each with exactly pinned versions (the
script refuses any other pairing):

    XGBoost 1.7.4, scikit-learn 1.2.1, Python 3.11 (Debian 12's python3-xgboost
    and python3-sklearn, pandas 1.5.3):
        /usr/bin/python3 testdata/xgboost/make_models.py
    XGBoost 2.1.4, scikit-learn 1.5.2, Python 3.11 (a venv:
        python3 -m venv /tmp/v2 && /tmp/v2/bin/pip install xgboost-cpu==2.1.4
        scikit-learn==1.5.2 numpy==1.26.4 pandas==2.2.3):
        /tmp/v2/bin/python testdata/xgboost/make_models.py
    XGBoost 3.2.0, scikit-learn 1.9.1, Python 3.11 (a venv: pip install
        xgboost-cpu==3.2.0 scikit-learn==1.9.1 pandas; 3.3 and later need
        Python 3.12):
        /tmp/v/bin/python testdata/xgboost/make_models.py

Run from anywhere; files are written beside this script. Training is
single-threaded with the exact tree method and a fixed seed, so a rerun
reproduces the committed files byte for byte.

Under XGBoost 1.7.4 only, the original set, for each model NAME:

    NAME.model      the native binary exactly as Booster.save_model writes it
                    (XGBoost 1.7: "binf" magic, class count in the learner header)
    NAME.json       classify/golden v1 cases: inputs, XGBoost's predicted label
                    (XGBClassifier.predict) and probabilities (predict_proba)

and iris_softprob.model.meta.json, a classify/xgboost-meta v1 sidecar.

Under every version, the format suite in <version>/ (see suite_main): seven
small models (multi:softprob on imbalanced classes, so 3.x stores a non-zero
base_score vector; multi:softmax trained on a DataFrame, so JSON and UBJSON
carry feature names; binary:logistic; binary:logitraw; gamma-pruned trees,
asserted to have deleted nodes and trees pruned to a leaf root; XGBRFClassifier with 4 parallel trees; NaN in
the training data), each saved by XGBClassifier.save_model in every format
that version writes:

    1.7.4/  NAME.model (binary), NAME.json, NAME.ubj   (+ wine_bench, 150 trees,
            for the load benchmarks, golden rows from the data only)
    2.1.4/  NAME.deprecated (the binary 2.x writes), NAME.json, NAME.ubj
    3.2.0/  NAME.json, NAME.ubj (3.1 and later write no binary), and
            refused_*: a categorical split, vector leaves, dart, gblinear
            and a regressor, which classify must refuse

and NAME.golden.json, classify/golden v2 (inputs may be null: missing) with
the list of those files under "artifacts": every one of them must give these
answers.

Besides the data set's own rows, each case file holds probe rows that sit on
the split thresholds: for every distinct (feature, split condition t) in the
model, a training row that reaches such a split gets that feature set to t,
to the float64 and float32 neighbours of t, and to the midpoint between t and
the float32 below it (which rounds to even) and that midpoint's float64
neighbours. XGBoost decides float32(x) < t; these are the rows where a
library deciding x <= t in float64 would disagree. Then each feature is set
to the extremes 0, 1e-6, 1e3, 1e6, -1e6, +-1e30 and +-max float32 (the suite:
NaN, 0, 1e6, -1e6, +-1e30, +-max float32), and in the suite each feature in
turn, then all of them, is missing (NaN).
"""

import json
import os
import platform
import struct

import numpy as np
import sklearn
import xgboost as xgb
from sklearn.datasets import load_breast_cancer, load_iris, load_wine

HERE = os.path.dirname(os.path.abspath(__file__))
F32_MAX = float(np.finfo(np.float32).max)


def parse_splits(raw):
    """Return the trees of an XGBoost legacy binary model as lists of nodes
    (left, right, feature, condition), reading the format independently of Go."""
    pos = 4 if raw[:4] == b"binf" else 0
    pos += 136  # LearnerModelParam
    for _ in range(2):  # objective name, booster name
        (n,) = struct.unpack_from("<Q", raw, pos)
        pos += 8 + n
    num_trees = struct.unpack_from("<i", raw, pos)[0]
    pos += 160  # GBTreeModelParam
    trees = []
    for _ in range(num_trees):
        num_nodes = struct.unpack_from("<i", raw, pos + 4)[0]
        pos += 148  # TreeParam
        nodes = []
        for i in range(num_nodes):
            _, left, right, sindex, cond = struct.unpack_from("<iiiIf", raw, pos + 20 * i)
            nodes.append((left, right, sindex & 0x7FFFFFFF, np.float32(cond)))
        pos += 36 * num_nodes  # nodes and their statistics
        trees.append(nodes)
    return trees


def reaching_rows(trees, X):
    """Map each distinct (feature, condition) to the first row of X that
    reaches a split on it, walking the trees as XGBoost does."""
    X32 = X.astype(np.float32)
    first = {}
    for nodes in trees:
        for r, row in enumerate(X32):
            i = 0
            while nodes[i][0] != -1:
                left, right, f, cond = nodes[i]
                key = (f, float(cond))
                if key not in first:
                    first[key] = r
                i = left if row[f] < cond else right
    return first


def probe_values(t):
    t64 = float(t)
    below32 = np.nextafter(np.float32(t), np.float32(-np.inf))
    above32 = np.nextafter(np.float32(t), np.float32(np.inf))
    mid = (float(below32) + t64) / 2  # exact in float64
    vals = [
        ("t", t64),
        ("t-64", float(np.nextafter(t64, -np.inf))),
        ("t+64", float(np.nextafter(t64, np.inf))),
        ("t-32", float(below32)),
        ("t+32", float(above32)),
        ("mid", mid),
        ("mid-64", float(np.nextafter(mid, -np.inf))),
        ("mid+64", float(np.nextafter(mid, np.inf))),
    ]
    return [(n, v) for n, v in vals if abs(v) <= F32_MAX]


def make_cases(clf, X, raw):
    rows, names = [], []
    for i, row in enumerate(X):
        rows.append([float(v) for v in row])
        names.append("data/%d" % i)
    first = reaching_rows(parse_splits(raw), X)
    for (f, t), r in sorted(first.items()):
        for tag, v in probe_values(t):
            row = [float(v) for v in X[r]]
            row[f] = v
            rows.append(row)
            names.append("threshold/f%d=%r/%s" % (f, t, tag))
    base = np.median(X, axis=0)
    for f in range(X.shape[1]):
        for v in (0.0, 1e-6, 1e3, 1e6, -1e6, 1e30, -1e30, F32_MAX, -F32_MAX):
            row = [float(x) for x in base]
            row[f] = v
            rows.append(row)
            names.append("extreme/f%d=%r" % (f, v))
    A = np.array(rows, dtype=np.float64)
    labels = clf.predict(A)
    proba = clf.predict_proba(A)
    cases = []
    for name, row, lab, p in zip(names, rows, labels, proba):
        cases.append({
            "name": name,
            "input": row,
            "label": str(int(lab)),
            "proba": [float(v) for v in p],
        })
    return cases


def make(name, X, y, **params):
    clf = xgb.XGBClassifier(tree_method="exact", n_jobs=1, random_state=0, **params)
    clf.fit(X, y)
    path = os.path.join(HERE, name + ".model")
    clf.get_booster().save_model(path)
    with open(path, "rb") as f:
        raw = f.read()
    nclass = int(clf.n_classes_)
    doc = {
        "format": "classify/golden",
        "format_version": 1,
        "model": name,
        "reference": "xgboost %s" % xgb.__version__,
        "objective": clf.get_params()["objective"] or ("multi:softprob" if nclass > 2 else "binary:logistic"),
        "features": ["f%d" % i for i in range(X.shape[1])],
        "classes": [str(i) for i in range(nclass)],
        "cases": make_cases(clf, X, raw),
    }
    with open(os.path.join(HERE, name + ".json"), "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    return clf


def legacy_main():
    iris = load_iris()
    make("iris_softprob", iris.data, iris.target, n_estimators=20, max_depth=3)
    meta = {
        "format": "classify/xgboost-meta",
        "format_version": 1,
        "library": "xgboost %s" % xgb.__version__,
        "objective": "multi:softprob",
        "features": ["sepal_length", "sepal_width", "petal_length", "petal_width"],
        "classes": ["setosa", "versicolor", "virginica"],
    }
    with open(os.path.join(HERE, "iris_softprob.model.meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    # Small enough for the fuzzer to mutate quickly.
    make("iris_tiny", iris.data, iris.target, n_estimators=2, max_depth=2)
    make("iris_softmax", iris.data, iris.target, n_estimators=10, max_depth=2,
         objective="multi:softmax")
    bc = load_breast_cancer()
    make("breast_cancer_logistic", bc.data, bc.target, n_estimators=30, max_depth=3)
    wine = load_wine()
    make("wine_200", wine.data, wine.target, n_estimators=200, max_depth=3)



# ---------------------------------------------------------------------------
# The format suite: the same small models, trained by each XGBoost version,
# saved in every format that version writes, with one golden file per model
# that every one of its files must match. Written to testdata/xgboost/<version>/.

# Exactly the versions the suite was made with, per interpreter.
VERSIONS = {
    "1.7.4": "1.2.1",  # Debian 12: /usr/bin/python3 (python3-xgboost, python3-sklearn)
    "2.1.4": "1.5.2",  # venv: pip install xgboost-cpu==2.1.4 scikit-learn==1.5.2 numpy==1.26.4 pandas==2.2.3
    "3.2.0": "1.9.1",  # venv: pip install xgboost-cpu==3.2.0 scikit-learn==1.9.1 (pandas 3.1.1)
}

# What each version writes: extension -> format. 1.7 writes the binary under
# any other name; 2.x only under ".deprecated" (its own layout); 3.1 and
# later no longer write it.
FORMATS = {
    "1.7.4": {".model": "binary", ".json": "JSON", ".ubj": "UBJSON"},
    "2.1.4": {".deprecated": "binary", ".json": "JSON", ".ubj": "UBJSON"},
    "3.2.0": {".json": "JSON", ".ubj": "UBJSON"},
}

LOGITRAW_NOTE = (
    "binary:logitraw: XGBClassifier.predict_proba returns [1-m, m] of the raw margin m and "
    "predict thresholds m at 0.5, which is no probability; classify gives the logistic of "
    "XGBoost's margin. margin is XGBoost's own (predict(output_margin=True)); proba is "
    "[1-s, s], s = 1/(expf(min(-margin, 88.7))+1) in float32 with the C library's expf "
    "(XGBoost's common::Sigmoid), label is 1 when s > 0.5.")


def xgb_sigmoid(m):
    """XGBoost's common::Sigmoid in float32, with the C library's expf that
    XGBoost calls (numpy's own float32 exp differs from it by an ulp on
    some values)."""
    import ctypes
    libm = ctypes.CDLL("libm.so.6")
    libm.expf.restype, libm.expf.argtypes = ctypes.c_float, [ctypes.c_float]
    x = min(-np.float32(m), np.float32(88.7))
    return np.float32(1) / (np.float32(libm.expf(float(x))) + np.float32(1))


def model_trees(booster):
    """The trees of a booster as lists of nodes (left, right, feature,
    condition, default_left), from its JSON, deleted nodes included."""
    doc = json.loads(bytes(booster.save_raw(raw_format="json")))
    trees = []
    for t in doc["learner"]["gradient_booster"]["model"]["trees"]:
        trees.append(list(zip(t["left_children"], t["right_children"], t["split_indices"],
                              [np.float32(c) for c in t["split_conditions"]],
                              [bool(d) for d in t["default_left"]])))
    return doc, trees


def reaching_rows_nan(trees, X):
    """Like reaching_rows, routing NaN by default_left."""
    X32 = X.astype(np.float32)
    first = {}
    for nodes in trees:
        for r, row in enumerate(X32):
            i = 0
            while nodes[i][0] != -1:
                left, right, f, cond, dleft = nodes[i]
                key = (f, float(cond))
                if key not in first:
                    first[key] = r
                if np.isnan(row[f]):
                    i = left if dleft else right
                else:
                    i = left if row[f] < cond else right
    return first


def suite_cases(clf, X, trees, objective, columns, probes=True):
    rows, names = [], []
    for i in range(0, len(X), 5):
        rows.append([float(v) for v in X[i]])
        names.append("data/%d" % i)
    first = reaching_rows_nan(trees, X) if probes else {}
    for (f, t), r in sorted(first.items()):
        for tag, v in probe_values(t):
            if tag in ("t-64", "t+64"):
                continue  # float64 neighbours of t: float32(x) is t, as for t itself
            row = [float(v) for v in X[r]]
            row[f] = v
            rows.append(row)
            names.append("threshold/f%d=%r/%s" % (f, t, tag))
    base = np.nanmedian(X, axis=0)
    for f in range(X.shape[1]):
        for v in (float("nan"), 0.0, 1e6, -1e6, 1e30, -1e30, F32_MAX, -F32_MAX):
            row = [float(x) for x in base]
            row[f] = v
            rows.append(row)
            names.append("extreme/f%d=%r" % (f, v))
        row = [float(v) for v in X[0]]
        row[f] = float("nan")
        rows.append(row)
        names.append("missing/data0/f%d" % f)
    rows.append([float("nan")] * X.shape[1])
    names.append("missing/all")
    A = np.array(rows, dtype=np.float64)
    if columns is not None:
        import pandas as pd
        A = pd.DataFrame(A, columns=columns)
    margin = np.asarray(clf.predict(A, output_margin=True), dtype=np.float32)
    if objective == "binary:logitraw":
        s = np.array([xgb_sigmoid(v) for v in margin.reshape(-1)], dtype=np.float32)
        proba = np.stack([np.float32(1) - s, s], axis=1)
        labels = (s > np.float32(0.5)).astype(int)
    else:
        proba = clf.predict_proba(A)
        labels = clf.predict(A)
    cases = []
    for name, row, lab, p, mg in zip(names, rows, labels, proba, margin):
        c = {
            "name": name,
            "input": [None if np.isnan(v) else v for v in row],
            "label": str(int(lab)),
            "proba": [float(v) for v in p],
        }
        if objective == "binary:logitraw":
            c["margin"] = [float(v) for v in np.atleast_1d(mg)]
        cases.append(c)
    return cases


def suite_model(outdir, name, X, y, columns=None, rf=False, check=None, probes=True, **params):
    version = xgb.__version__
    cls = xgb.XGBRFClassifier if rf else xgb.XGBClassifier
    clf = cls(tree_method="exact", n_jobs=1, random_state=0, **params)
    if columns is not None:
        import pandas as pd
        clf.fit(pd.DataFrame(X, columns=columns), y)
    else:
        clf.fit(X, y)
    doc, trees = model_trees(clf.get_booster())
    learner = doc["learner"]
    objective = learner["objective"]["name"]
    if check:
        check(doc)
    artifacts = []
    for ext, fmt in FORMATS[version].items():
        path = os.path.join(outdir, name + ext)
        clf.save_model(path)
        with open(path, "rb") as f:
            head = f.read(2)
        got = "JSON" if head[:2] == b'{"' else "UBJSON" if head[:1] == b"{" else "binary"
        assert got == fmt, (path, got, fmt)
        artifacts.append({"file": name + ext, "format": fmt})
    nclass = int(clf.n_classes_)
    features = list(learner.get("feature_names") or []) or ["f%d" % i for i in range(X.shape[1])]
    golden = {
        "format": "classify/golden",
        "format_version": 2,
        "model": name,
        "reference": "xgboost %s, scikit-learn %s, Python %s" % (
            version, sklearn.__version__, platform.python_version()),
        "objective": objective,
        "base_score": learner["learner_model_param"]["base_score"],
        "features": features,
        "classes": [str(i) for i in range(nclass)],
        "artifacts": artifacts,
        "cases": suite_cases(clf, X, trees, objective, columns, probes),
    }
    if objective == "binary:logitraw":
        golden["note"] = LOGITRAW_NOTE
    with open(os.path.join(outdir, name + ".golden.json"), "w") as f:
        json.dump(golden, f, separators=(",", ":"))
        f.write("\n")


def has_deleted_nodes(doc):
    trees = doc["learner"]["gradient_booster"]["model"]["trees"]
    n = sum(int(t["tree_param"]["num_deleted"]) for t in trees)
    assert n > 0, "gamma model has no deleted nodes"
    pruned = sum(1 for t in trees if t["left_children"][0] == -1 and len(t["left_children"]) > 1)
    assert pruned > 0, "gamma model has no tree pruned to its root"
    splits = sum(1 for t in trees if t["left_children"][0] != -1)
    assert splits > 0, "gamma model has no split left"


def has_parallel_trees(doc):
    p = doc["learner"]["gradient_booster"]["model"]["gbtree_model_param"]
    assert int(p["num_parallel_tree"]) == 4, p


def base_vector(nonzero):
    def check(doc):
        if xgb.__version__.startswith("3."):
            b = doc["learner"]["learner_model_param"]["base_score"]
            assert b.startswith("["), b
            if nonzero:
                assert any(float(v) != 0 for v in b[1:-1].split(",")), b
    return check


def suite_main():
    version = xgb.__version__
    assert VERSIONS.get(version) == sklearn.__version__, (version, sklearn.__version__)
    outdir = os.path.join(HERE, version)
    os.makedirs(outdir, exist_ok=True)
    iris = load_iris()
    iris_names = ["sepal length", "sepal_width", "petal_length", "petal_width"]
    wine = load_wine()
    bc = load_breast_cancer()
    Xbc = bc.data[:, :6]
    Xnan = Xbc.copy()
    Xnan[np.random.RandomState(0).rand(*Xnan.shape) < 0.15] = np.nan
    # Imbalanced classes (59/71/48): a non-zero base_score vector in 3.x.
    suite_model(outdir, "wine_softprob", wine.data[:, :5], wine.target, n_estimators=4, max_depth=2,
                check=base_vector(True))
    # Feature names from a DataFrame; one of them with a space.
    suite_model(outdir, "iris_softmax_names", iris.data, iris.target, columns=iris_names,
                n_estimators=4, max_depth=2, objective="multi:softmax")
    suite_model(outdir, "bc_logistic", Xbc, bc.target, n_estimators=6, max_depth=2,
                check=base_vector(True))
    suite_model(outdir, "bc_logitraw", Xbc, bc.target, n_estimators=6, max_depth=2,
                objective="binary:logitraw")
    # gamma 20 prunes whole trees back to their root: the root a leaf, its
    # children deleted but still in the file (what leaves failed on).
    suite_model(outdir, "iris_gamma", iris.data, iris.target, n_estimators=4, max_depth=4, gamma=20.0,
                check=has_deleted_nodes)
    # exact does not sample columns by node; rows are still sampled (subsample 0.8).
    suite_model(outdir, "iris_rf", iris.data, iris.target, rf=True, n_estimators=4, max_depth=2,
                colsample_bynode=1.0,
                check=has_parallel_trees)
    suite_model(outdir, "bc_nan", Xnan, bc.target, n_estimators=6, max_depth=3)
    if version == "1.7.4":
        # The load and predict benchmarks' model, in every format 1.7 writes:
        # 150 trees; its golden file has data rows only, to stay small.
        suite_model(outdir, "wine_bench", wine.data, wine.target, n_estimators=50, max_depth=3,
                    probes=False)


def refused_main():
    """Models classify must refuse, each with the error that says what to do,
    as XGBoost 3.2 writes them (to 3.2.0/refused_*)."""
    import pandas as pd
    outdir = os.path.join(HERE, xgb.__version__)
    iris = load_iris()
    X, y = iris.data, iris.target
    kw = dict(n_estimators=2, max_depth=2, n_jobs=1, random_state=0)
    xgb.XGBClassifier(multi_strategy="multi_output_tree", tree_method="hist", **kw).fit(X, y).save_model(
        os.path.join(outdir, "refused_vector_leaf.ubj"))
    xgb.XGBClassifier(booster="dart", **kw).fit(X, y).save_model(os.path.join(outdir, "refused_dart.json"))
    xgb.XGBClassifier(booster="gblinear", n_estimators=2, n_jobs=1, random_state=0).fit(X, y).save_model(
        os.path.join(outdir, "refused_gblinear.ubj"))
    xgb.XGBRegressor(**kw).fit(X, y).save_model(os.path.join(outdir, "refused_regressor.ubj"))
    df = pd.DataFrame(X[:, :1], columns=["sepal_length"])
    df["color"] = pd.Categorical(np.array(["red", "green", "blue"])[y])
    clf = xgb.XGBClassifier(enable_categorical=True, tree_method="hist", max_cat_to_onehot=1, **kw).fit(df, y)
    path = os.path.join(outdir, "refused_categorical.json")
    clf.save_model(path)
    with open(path) as f:
        trees = json.load(f)["learner"]["gradient_booster"]["model"]["trees"]
    assert trees[0]["split_type"][0] == 1, "no categorical split at the first root"


def main():
    if xgb.__version__ == "3.2.0":
        refused_main()
    if xgb.__version__ == "1.7.4":
        assert sklearn.__version__ == "1.2.1", sklearn.__version__
        legacy_main()
    suite_main()


if __name__ == "__main__":
    main()
