"""XGBoost: the model file (pickled estimators saved, model files copied unchanged) and the sidecar."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest

xgboost = pytest.importorskip("xgboost")

from conftest import FEATURES, dump, fails, load_json, ok, parity_inputs, version_tuple  # noqa: E402

XGB = version_tuple(xgboost.__version__)
LEGACY_BINARY = XGB < (2, 0, 0)


def fit(cls, X, y, **kw):
    params = dict(n_estimators=4, max_depth=3, random_state=0, n_jobs=1)
    params.update(kw)
    return cls(**params).fit(X, y)


def reloaded(path, cls=None):
    c = (cls or xgboost.XGBClassifier)()
    c.load_model(str(path))
    return c


def check_parity(par, clf, classes):
    A = parity_inputs(par)
    assert [c["label"] for c in par["cases"]] == [classes[int(k)] for k in clf.predict(A)]
    want = clf.predict_proba(A)
    got = np.array([c["proba"] for c in par["cases"]])
    assert np.array_equal(got, want.astype(np.float64))  # float32 answers stored exactly


@pytest.mark.parametrize("cls_name", ["XGBClassifier", "XGBRFClassifier"])
@pytest.mark.parametrize("binary", [False, True], ids=["multi", "binary"])
def test_pickled_estimator(tmp_path, iris, cls_name, binary):
    X, y = iris
    cls = getattr(xgboost, cls_name)
    if binary:
        y = (y == 2).astype(int)
    clf = fit(cls, X, y)
    model = dump(clf, tmp_path / "xgb.joblib")
    ok([model, "--out", tmp_path / "out", "--features", ",".join(FEATURES)])
    art = tmp_path / "out" / "xgb.ubj"
    assert art.read_bytes()[:1] == b"{"
    again = reloaded(art, cls)
    assert np.array_equal(again.predict_proba(X), clf.predict_proba(X))

    meta = load_json(tmp_path / "out" / "xgb.ubj.meta.json")
    k = 2 if binary else 3
    assert meta == {
        "format": "classify/xgboost-meta",
        "format_version": 1,
        "library": f"xgboost {xgboost.__version__}",
        "objective": "binary:logistic" if binary else "multi:softprob",
        "features": FEATURES,
        "classes": [str(i) for i in range(k)],
    }
    par = load_json(tmp_path / "out" / "xgb.parity.json")
    assert par["kind"] == "xgboost" and par["artifact"] == "xgb.ubj"
    assert par["artifact_sha256"] == hashlib.sha256(art.read_bytes()).hexdigest()
    assert par["reference"] == f"xgboost {xgboost.__version__}"
    assert par["tolerance"] == 1e-6
    assert any(None in c["input"] for c in par["cases"])  # XGBoost always takes missing values
    assert any(c["name"].startswith("edge/threshold/") for c in par["cases"])
    check_parity(par, clf, meta["classes"])


@pytest.mark.parametrize("fmt", ["json", "ubj", "binary"])
def test_save_formats(tmp_path, iris, fmt):
    X, y = iris
    clf = fit(xgboost.XGBClassifier, X, y)
    model = dump(clf, tmp_path / "m.pkl")
    args = [model, "--out", tmp_path, "--features", ",".join(FEATURES), "--xgb-format", fmt]
    if fmt == "binary" and not LEGACY_BINARY:
        fails(args, "does not write the legacy binary format")
        return
    ok(args)
    suffix = {"json": ".json", "ubj": ".ubj", "binary": ".model"}[fmt]
    art = tmp_path / ("m" + suffix)
    if fmt == "binary":
        assert art.read_bytes()[:4] == b"binf"
    assert np.array_equal(reloaded(art).predict_proba(X), clf.predict_proba(X))
    assert load_json(tmp_path / "m.parity.json")["artifact"] == "m" + suffix


def raw_formats():
    return ["json", "ubj"] + (["binary"] if LEGACY_BINARY else [])


@pytest.mark.parametrize("fmt", raw_formats())
def test_model_file_copied_unchanged(tmp_path, iris, fmt):
    pd = pytest.importorskip("pandas")
    X, y = iris
    clf = fit(xgboost.XGBClassifier, pd.DataFrame(X, columns=FEATURES), y)
    suffix = {"json": ".json", "ubj": ".ubj", "binary": ".bin"}[fmt]
    src = tmp_path / ("user" + suffix)
    clf.save_model(str(src))
    extra = [] if fmt != "binary" else ["--features", ",".join(FEATURES)]  # the legacy binary has no names
    # class names are not in the file: they must be given
    fails([src, "--out", tmp_path / "out", *extra], "does not name its 3 classes", "--classes")
    fails([src, "--out", tmp_path / "out", "--classes", "a,b", *extra], "gives 2 class names", "has 3")
    if fmt == "binary":
        fails([src, "--out", tmp_path / "out", "--classes", "a,b,c"], "does not name its 4 features")
    ok([src, "--out", tmp_path / "out", "--classes", "setosa,versicolor,virginica", *extra])
    art = tmp_path / "out" / ("user" + suffix)
    assert art.read_bytes() == src.read_bytes()
    meta = load_json(tmp_path / "out" / ("user" + suffix + ".meta.json"))
    assert meta["features"] == FEATURES and meta["classes"] == ["setosa", "versicolor", "virginica"]
    par = load_json(tmp_path / "out" / "user.parity.json")
    assert par["artifact"] == "user" + suffix
    check_parity(par, clf, meta["classes"])


@pytest.mark.skipif(LEGACY_BINARY, reason="xgboost < 3.1 reads the legacy binary")
def test_legacy_binary_refused_clearly(tmp_path):
    src = tmp_path / "old.model"
    src.write_bytes(b"binf" + b"\0" * 200)
    fails([src, "--out", tmp_path, "--classes", "a,b"], "cannot load this binary model")


def test_nan_trained(tmp_path, iris):
    X, y = iris
    Xn = X.copy()
    Xn[::4, 1] = np.nan
    clf = fit(xgboost.XGBClassifier, Xn, y)
    ok([dump(clf, tmp_path / "n.pkl"), "--out", tmp_path, "--features", ",".join(FEATURES), "--classes", "a,b,c"])
    par = load_json(tmp_path / "n.parity.json")
    assert sum(None in c["input"] for c in par["cases"]) >= len(FEATURES)
    check_parity(par, clf, ["a", "b", "c"])


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_refused(tmp_path, iris):
    X, y = iris
    reg = xgboost.XGBRegressor(n_estimators=2).fit(X, y)
    fails([dump(reg, tmp_path / "reg.pkl"), "--out", tmp_path], "unsupported estimator type", "XGBRegressor")
    src = tmp_path / "reg.json"
    reg.save_model(str(src))
    fails([src, "--out", tmp_path, "--classes", "a,b", "--features", "a,b,c,d"], "objective reg:squarederror")
    fails([dump(xgboost.XGBClassifier(), tmp_path / "unfit.pkl"), "--out", tmp_path], "not fitted")
    clf = fit(xgboost.XGBClassifier, X, y, missing=0.0)
    fails([dump(clf, tmp_path / "m0.pkl"), "--out", tmp_path, "--features", "a,b,c,d"], "missing=0.0")
    lin = fit(xgboost.XGBClassifier, X, y, booster="gblinear")
    fails([dump(lin, tmp_path / "lin.pkl"), "--out", tmp_path, "--features", "a,b,c,d"], "gblinear")


def test_early_stopping_refused(tmp_path, iris):
    X, y = iris
    kw = dict(n_estimators=50, early_stopping_rounds=2, eval_metric="mlogloss")
    try:
        clf = xgboost.XGBClassifier(max_depth=6, random_state=0, n_jobs=1, **kw)
    except TypeError:
        pytest.skip("this xgboost takes early stopping in fit")
    Xv = X + 0.3 * np.sin(np.arange(X.size)).reshape(X.shape)
    clf.fit(X, y, eval_set=[(Xv, y)], verbose=False)
    if clf.get_booster().attributes().get("best_iteration") is None or \
            int(clf.get_booster().attributes()["best_iteration"]) + 1 >= clf.get_booster().num_boosted_rounds():
        pytest.skip("training did not stop early")
    fails([dump(clf, tmp_path / "es.pkl"), "--out", tmp_path, "--features", "a,b,c,d"], "early stopping")


def test_multi_label_refused(tmp_path, iris):
    X, y = iris
    Y = np.column_stack([y == 1, y == 2]).astype(int)
    clf = xgboost.XGBClassifier(n_estimators=2, tree_method="hist", n_jobs=1).fit(X, Y)
    fails([dump(clf, tmp_path / "ml.pkl"), "--out", tmp_path, "--features", "a,b,c,d"], "multi-output (2 targets)")


def test_copied_file_named_by_its_format(tmp_path, iris):
    X, y = iris
    clf = fit(xgboost.XGBClassifier, X, y)
    src = tmp_path / "model.bin"  # UBJSON under a neutral name
    clf.save_model(str(tmp_path / "model.ubj"))
    src.write_bytes((tmp_path / "model.ubj").read_bytes())
    ok([src, "--out", tmp_path / "out", "--classes", "a,b,c", "--features", ",".join(FEATURES)])
    assert (tmp_path / "out" / "model.ubj").read_bytes() == src.read_bytes()
    assert (tmp_path / "out" / "model.ubj.meta.json").exists()
    assert load_json(tmp_path / "out" / "model.parity.json")["artifact"] == "model.ubj"


@pytest.mark.parametrize("raw", [False, True], ids=["pickled", "file"])
def test_softmax(tmp_path, iris, raw):
    X, y = iris
    clf = fit(xgboost.XGBClassifier, X, y, objective="multi:softmax")
    if raw:
        src = tmp_path / "sm.json"
        clf.save_model(str(src))
    else:
        src = dump(clf, tmp_path / "sm.pkl")
    ok([src, "--out", tmp_path / "out", "--features", ",".join(FEATURES), "--classes", "x,y,z"])
    art = "sm.json" if raw else "sm.ubj"
    assert load_json(tmp_path / "out" / (art + ".meta.json"))["objective"] == "multi:softmax"
    check_parity(load_json(tmp_path / "out" / "sm.parity.json"), clf, ["x", "y", "z"])
