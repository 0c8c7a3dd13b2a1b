"""Boosting families: LightGBM (text model + classify/lightgbm-meta), HistGradientBoosting
(classify/sklearn-hgb) and GradientBoosting (classify/sklearn-gb), with their parity files.

Every parity case is also predicted by tests/evaluators.py, an independent reading of the
formats as research/FORMATS.md states them: the documented rules give the library's answers.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import FEATURES, dump, fails, load_json, ok, parity_inputs

lightgbm = pytest.importorskip("lightgbm")
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.dummy import DummyClassifier  # noqa: E402
from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier  # noqa: E402

import evaluators  # noqa: E402

from classify_export import ExportError, export  # noqa: E402

LGB = dict(verbose=-1, n_jobs=1, deterministic=True, random_state=0)


def mixed_data(n=400, seed=0):
    """Two numeric columns (with NaN and exact zeros) and a categorical one (codes 0..5, NaN)."""
    rng = np.random.RandomState(seed)
    X = np.column_stack([rng.normal(size=n), rng.uniform(-1, 1, size=n), rng.randint(0, 6, size=n).astype(float)])
    X[rng.rand(n) < 0.1, 0] = np.nan
    X[rng.rand(n) < 0.15, 1] = 0.0
    X[rng.rand(n) < 0.05, 2] = np.nan
    cat = np.nan_to_num(X[:, 2], nan=2.0)
    score = np.nan_to_num(X[:, 0]) + (cat % 3 == 1) * 1.5 - (X[:, 1] == 0) * 1.0
    y = np.digitize(score, [-0.3, 0.8])
    return X, y


def check_cases(par, predict, label_of=None):
    """Each case: the evaluator's probabilities within the file's tolerance, the same label."""
    classes = par["classes"]
    worst = 0.0
    for c in par["cases"]:
        x = [math.nan if v is None else v for v in c["input"]]
        out = predict(x)
        p, lab = (out if isinstance(out, tuple) else (out, int(np.argmax(out))))
        diff = float(np.max(np.abs(np.array(p) - np.array(c["proba"]))))
        worst = max(worst, diff)
        assert diff <= par["tolerance"], (c["name"], p, c["proba"])
        assert classes[lab] == c["label"], c["name"]
    return worst


# ---------------------------------------------------------------------------- LightGBM


@pytest.mark.parametrize("objective", ["binary", "multiclass", "multiclassova"])
def test_lightgbm_classifier(tmp_path, iris, objective):
    X, y = iris
    if objective == "binary":
        y = (y == 2).astype(int)
    names = np.array(["setosa", "versicolor", "virginica"], dtype=object)[y] if objective != "binary" else y
    est = lightgbm.LGBMClassifier(n_estimators=15, num_leaves=6, objective=objective, **LGB).fit(X, names)
    out = ok([dump(est, tmp_path / "m.joblib"), "--out", tmp_path / "out", "--features", ",".join(FEATURES),
              "--registry", tmp_path / "reg", "--created", "2026-01-01T00:00:00Z"])
    assert "m.txt" in out
    text = (tmp_path / "out" / "m.txt").read_text()
    assert text.startswith("tree\nversion=v4\n")
    assert text == est.booster_.model_to_string()
    meta = load_json(tmp_path / "out" / "m.txt.meta.json")
    assert meta["format"] == "classify/lightgbm-meta" and meta["format_version"] == 1
    assert meta["objective"] == objective
    assert meta["features"] == FEATURES
    assert meta["classes"] == [str(c) for c in est.classes_]
    par = load_json(tmp_path / "out" / "m.parity.json")
    assert par["kind"] == "lightgbm" and par["artifact"] == "m.txt" and par["tolerance"] == 1e-9
    assert any(c["name"].startswith("edge/nan/") for c in par["cases"])
    assert np.array_equal(est.predict_proba(parity_inputs(par)), np.array([c["proba"] for c in par["cases"]]))
    check_cases(par, lambda x: evaluators.eval_lightgbm(text, x))
    entry = load_json(tmp_path / "reg" / "manifest.json")["models"][0]
    assert entry["kind"] == "lightgbm" and entry["file"] == "m.txt" and len(entry["meta_sha256"]) == 64


@pytest.mark.parametrize("boosting", ["gbdt", "rf"])
def test_lightgbm_missing_zero_categorical(tmp_path, boosting):
    """NaN under each missing_type, zero as missing, categorical splits, unseen categories."""
    X, y = mixed_data()
    extra = dict(bagging_fraction=0.8, bagging_freq=1) if boosting == "rf" else {}
    est = lightgbm.LGBMClassifier(n_estimators=25, num_leaves=8, min_child_samples=5, boosting_type=boosting,
                                  cat_smooth=1, min_data_per_group=5, **extra, **LGB)
    est.fit(X, y, categorical_feature=[2])
    text = est.booster_.model_to_string()
    _, trees = evaluators.parse_lightgbm(text)
    assert any("cat_boundaries" in t for t in trees), "the model has categorical splits"
    if boosting == "rf":
        assert "\naverage_output\n" in text
    rows = X[:60].copy()
    rows[:5, 2] = [7.0, 40.0, -1.0, 2.5, -0.5]  # unseen, negative and fractional categories
    rows[5:8, 1] = [1e-36, -1e-36, evaluators.K_ZERO_THRESHOLD]  # |x| <= kZeroThreshold: zero
    r = export(est, tmp_path, name="mixed", features=["a", "b", "c"], rows=rows)
    par = load_json(r.parity)
    check_cases(par, lambda x: evaluators.eval_lightgbm(text, x))


def test_lightgbm_zero_as_missing(tmp_path):
    X, y = mixed_data(seed=1)
    X = np.nan_to_num(X, nan=0.0)
    est = lightgbm.LGBMClassifier(n_estimators=10, num_leaves=6, zero_as_missing=True, **LGB).fit(X, y)
    text = est.booster_.model_to_string()
    _, trees = evaluators.parse_lightgbm(text)
    assert any(((d >> 2) & 3) == 1 for t in trees for d in t.get("decision_type", [])), "missing_type Zero"
    r = export(est, tmp_path, name="zero", features=["a", "b", "c"], rows=X[:80])
    check_cases(load_json(r.parity), lambda x: evaluators.eval_lightgbm(text, x))


def test_lightgbm_booster_and_file(tmp_path, iris):
    X, y = iris
    booster = lightgbm.train(dict(objective="multiclass", num_class=3, num_leaves=5, **{"verbose": -1,
                             "num_threads": 1, "deterministic": True}), lightgbm.Dataset(X, y), num_boost_round=5)
    path = tmp_path / "model.txt"
    booster.save_model(str(path))
    fails([path, "--out", tmp_path / "o"], "does not name its 3 classes", "--classes")
    out = ok([path, "--out", tmp_path / "o", "--classes", "a,b,c"])
    assert "model.txt" in out
    assert (tmp_path / "o" / "model.txt").read_bytes() == path.read_bytes()  # the user's file, unchanged
    meta = load_json(tmp_path / "o" / "model.txt.meta.json")
    assert meta["features"] == [f"Column_{i}" for i in range(4)] and meta["classes"] == ["a", "b", "c"]
    r = export(booster, tmp_path / "b", name="b", classes=["a", "b", "c"])
    assert r.kind == "lightgbm" and r.artifact.name == "b.txt"


def test_lightgbm_refusals(tmp_path, iris):
    X, y = iris
    reg = lightgbm.LGBMRegressor(n_estimators=3, **LGB).fit(X, y)
    with pytest.raises(ExportError, match="unsupported estimator type"):
        export(reg, tmp_path, name="r")
    booster = reg.booster_
    with pytest.raises(ExportError, match="objective regression is not supported"):
        export(booster, tmp_path, name="r", classes=["a", "b"])
    lin = lightgbm.LGBMClassifier(n_estimators=3, linear_tree=True, **LGB).fit(X, (y == 1).astype(int))
    with pytest.raises(ExportError, match="linear trees"):
        export(lin, tmp_path, name="l")
    xent = lightgbm.train({"objective": "cross_entropy", "verbose": -1, "num_threads": 1},
                          lightgbm.Dataset(X, (y == 1).astype(float)), num_boost_round=2)
    with pytest.raises(ExportError, match="objective cross_entropy is not supported"):
        export(xent, tmp_path, name="x", classes=["a", "b"])
    bad = tmp_path / "bad.txt"
    bad.write_text("tree\nversion=v4\nnum_class=1\nthis is not a model\n")
    fails([bad, "--out", tmp_path / "o", "--classes", "a,b"], "cannot load this model")


def test_lightgbm_pandas_categorical_refused(tmp_path):
    pd = pytest.importorskip("pandas")
    X, y = mixed_data()
    df = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": pd.Categorical(np.nan_to_num(X[:, 2]).astype(int))})
    est = lightgbm.LGBMClassifier(n_estimators=3, **LGB).fit(df, y)
    with pytest.raises(ExportError, match="pandas DataFrame with category columns"):
        export(est, tmp_path, name="p")


# ---------------------------------------------------------------------------- HistGradientBoosting


@pytest.mark.parametrize("case", ["iris", "binary", "missing_categorical"])
def test_hist_gradient_boosting(tmp_path, iris, case):
    if case == "iris":
        X, y = iris
        est = HistGradientBoostingClassifier(max_iter=15, max_leaf_nodes=6, random_state=0)
        features = FEATURES
    elif case == "binary":
        X, y = load_breast_cancer(return_X_y=True)
        est = HistGradientBoostingClassifier(max_iter=15, random_state=0)
        features = [f"f{i}" for i in range(X.shape[1])]
    else:
        X, y = mixed_data()  # categorical column last: the model's layout (categorical first) differs
        est = HistGradientBoostingClassifier(max_iter=20, categorical_features=[2], random_state=0)
        features = ["a", "b", "c"]
    est.fit(X, y)
    rows = X[:50].copy()
    if case == "missing_categorical":
        rows[:4, 2] = [9.0, -1.0, 2.5, np.nan]  # unseen, negative, fractional category, NaN
    r = export(est, tmp_path, name="h", features=features, rows=rows)
    assert r.kind == "hist_gradient_boosting" and r.nan_ok
    doc = load_json(r.artifact)
    assert doc["format"] == "classify/sklearn-hgb" and doc["format_version"] == 2
    for it, pits in zip(doc["iterations"], est._predictors):
        for d, p in zip(it, pits):  # v2: count and gain per node, as the predictor holds them
            assert d["count"] == p.nodes["count"].astype(int).tolist()
            assert all(type(v) is int for v in d["count"])
            assert np.array_equal(np.array(d["gain"]), p.nodes["gain"])
            split = p.nodes["is_leaf"] == 0
            assert np.array_equal(p.nodes["count"][split],
                                  p.nodes["count"][p.nodes["left"][split]] + p.nodes["count"][p.nodes["right"][split]])
    assert doc["link"] == ("logistic" if len(est.classes_) == 2 else "softmax")
    assert len(doc["iterations"]) == est.n_iter_
    if case == "missing_categorical":
        assert doc["columns"] == [2, 0, 1] and doc["categories"][2] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
        assert any(any(p["is_categorical"]) for it in doc["iterations"] for p in it)
    par = load_json(r.parity)
    assert par["kind"] == "hist_gradient_boosting" and par["tolerance"] == 1e-9
    assert np.array_equal(est.predict_proba(parity_inputs(par)), np.array([c["proba"] for c in par["cases"]]))
    check_cases(par, lambda x: evaluators.eval_hgb(doc, x))


def test_hist_gradient_boosting_refusals(tmp_path, iris):
    pd = pytest.importorskip("pandas")
    X, y = iris
    df = pd.DataFrame({"a": X[:, 0], "kind": pd.Categorical(np.where(y == 0, "x", "y"))})
    est = HistGradientBoostingClassifier(max_iter=3, categorical_features="from_dtype").fit(df, y)
    with pytest.raises(ExportError, match="non-numeric categories"):
        export(est, tmp_path, name="s")
    with pytest.raises(ExportError, match="not fitted"):
        export(HistGradientBoostingClassifier(), tmp_path, name="u")


# ---------------------------------------------------------------------------- GradientBoosting


@pytest.mark.parametrize("init", [None, "zero"])
@pytest.mark.parametrize("binary", [False, True])
def test_gradient_boosting(tmp_path, iris, init, binary):
    X, y = iris
    if binary:
        y = (y == 1).astype(int)
    est = GradientBoostingClassifier(n_estimators=12, max_depth=2, learning_rate=0.2, init=init,
                                     subsample=0.8, random_state=0).fit(X, y)
    model = dump(est, tmp_path / "gb.pkl")
    ok([model, "--out", tmp_path / "out", "--features", ",".join(FEATURES)])
    doc = load_json(tmp_path / "out" / "gb.json")
    assert doc["format"] == "classify/sklearn-gb" and doc["kind"] == "gradient_boosting"
    assert doc["format_version"] == 2
    for stage, regs in zip(doc["stages"], est.estimators_):
        for d, reg in zip(stage, regs):  # v2: the stage trees' covers and impurities
            t = reg.tree_
            assert d["n_node_samples"] == t.n_node_samples.tolist()
            assert np.array_equal(np.array(d["weighted_n_node_samples"]), t.weighted_n_node_samples)
            assert np.array_equal(np.array(d["impurity"]), t.impurity)
    assert doc["init"] == ("zero" if init == "zero" else "prior")
    assert len(doc["stages"]) == 12 and all(len(s) == (1 if binary else 3) for s in doc["stages"])
    if init == "zero":
        assert doc["init_raw"] == [0.0] * len(doc["stages"][0])
    elif binary:
        p = np.mean(y)
        assert doc["init_raw"] == [math.log(p / (1 - p))] or abs(doc["init_raw"][0] - math.log(p / (1 - p))) < 1e-15
    par = load_json(tmp_path / "out" / "gb.parity.json")
    assert not any(c["name"].startswith("edge/nan/") for c in par["cases"])  # GB refuses NaN
    check_cases(par, lambda x: evaluators.eval_gb(doc, x))


def test_gradient_boosting_refusals(tmp_path, iris):
    X, y = iris
    est = GradientBoostingClassifier(n_estimators=3, init=DummyClassifier(strategy="most_frequent")).fit(X, y)
    with pytest.raises(ExportError, match="init estimator DummyClassifier is not supported"):
        export(est, tmp_path, name="g")
    b = (y == 1).astype(int)
    est = GradientBoostingClassifier(n_estimators=3, loss="exponential").fit(X, b)
    with pytest.raises(ExportError, match="loss 'exponential' is not supported"):
        export(est, tmp_path, name="g")
