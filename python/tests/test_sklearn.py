"""scikit-learn trees and forests: classify/sklearn-trees v3 and their parity files."""
from __future__ import annotations

import math

import numpy as np
import pytest
import sklearn
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier

from conftest import FEATURES, check_parity_against_artifact, dump, fails, load_json, ok, parity_inputs
ESTIMATORS = {
    "DecisionTreeClassifier": (lambda: DecisionTreeClassifier(random_state=0, max_depth=4), "decision_tree"),
    "RandomForestClassifier": (lambda: RandomForestClassifier(n_estimators=4, max_depth=3, random_state=0),
                               "random_forest"),
    "ExtraTreesClassifier": (lambda: ExtraTreesClassifier(n_estimators=4, max_depth=3, random_state=0),
                             "random_forest"),
}
LABELS = {
    "strings": np.array(["setosa", "versicolor", "virginica"], dtype=object),
    "ints": np.array([-3, 7, 40]),
    "bools": None,  # two classes
}


def labels_for(kind, y):
    if kind == "bools":
        return y == 2, ["False", "True"]
    names = LABELS[kind]
    return names[y], [str(v) for v in names]


def accepts_nan(est, n):
    row = np.zeros((1, n))
    row[0, 0] = np.nan
    try:
        est.predict_proba(row)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("label_kind", list(LABELS))
@pytest.mark.parametrize("est_name", list(ESTIMATORS))
def test_export(tmp_path, iris, est_name, label_kind):
    X, y = iris
    make, kind = ESTIMATORS[est_name]
    yl, classes = labels_for(label_kind, y)
    est = make().fit(X, yl)
    model = dump(est, tmp_path / "m.joblib")
    out = ok([model, "--out", tmp_path / "out", "--features", ",".join(FEATURES)])
    assert "m.json" in out and "m.parity.json" in out

    art = load_json(tmp_path / "out" / "m.json")
    assert art["format"] == "classify/sklearn-trees"
    assert art["format_version"] == 3
    assert art["estimator"] == est_name
    assert art["kind"] == kind
    assert art["library"] == f"scikit-learn {sklearn.__version__}"
    assert art["features"] == FEATURES
    assert art["classes"] == classes
    trees = [est] if kind == "decision_tree" else est.estimators_
    assert len(art["trees"]) == len(trees)
    nan_ok = accepts_nan(est, 4)
    for t, d in zip(trees, art["trees"]):
        assert d["children_left"] == t.tree_.children_left.tolist()
        assert d["feature"] == t.tree_.feature.tolist()
        assert np.array_equal(np.array(d["threshold"]), t.tree_.threshold)  # identical bits
        assert np.array_equal(np.array(d["value"]), t.tree_.value[:, 0, :])  # as stored
        check_covers(d, t.tree_)
        assert ("missing_go_to_left" in d) == nan_ok
        if nan_ok:
            assert d["missing_go_to_left"] == t.tree_.missing_go_to_left.astype(int).tolist()

    par = load_json(tmp_path / "out" / "m.parity.json")
    assert par["format"] == "classify/golden" and par["format_version"] == 2
    assert par["model"] == "m" and par["kind"] == kind and par["artifact"] == "m.json"
    assert par["reference"] == f"scikit-learn {sklearn.__version__}"
    assert par["tolerance"] == 1e-9
    assert par["classes"] == classes
    import hashlib

    assert par["artifact_sha256"] == hashlib.sha256((tmp_path / "out" / "m.json").read_bytes()).hexdigest()
    A = parity_inputs(par)
    assert np.isnan(A).any() == nan_ok
    assert [c["label"] for c in par["cases"]] == [str(v) for v in est.predict(A)]
    assert np.array_equal(np.array([c["proba"] for c in par["cases"]]), est.predict_proba(A))
    check_parity_against_artifact(art, par)
    names = [c["name"] for c in par["cases"]]
    assert any(n.startswith("edge/threshold/") and n.endswith("/f32_below") for n in names)
    assert any(n.startswith("edge/far/") for n in names)
    assert any(n.startswith("random/") for n in names)


def check_covers(d, t):
    """Format v3: the node covers and impurities, identical bits, one per node."""
    n = t.node_count
    assert d["n_node_samples"] == t.n_node_samples.tolist() and len(d["n_node_samples"]) == n
    assert all(type(v) is int for v in d["n_node_samples"])
    assert np.array_equal(np.array(d["weighted_n_node_samples"]), t.weighted_n_node_samples) \
        and len(d["weighted_n_node_samples"]) == n
    assert np.array_equal(np.array(d["impurity"]), t.impurity) and len(d["impurity"]) == n
    # a split's cover is its children's (what TreeSHAP relies on)
    split = t.children_left != -1
    assert np.allclose(t.weighted_n_node_samples[split], t.weighted_n_node_samples[t.children_left[split]]
                       + t.weighted_n_node_samples[t.children_right[split]])


def test_covers_weighted(tmp_path, iris):
    """class_weight makes weighted_n_node_samples differ from n_node_samples: both are kept."""
    X, y = iris
    est = RandomForestClassifier(n_estimators=3, max_depth=3, class_weight={0: 1.0, 1: 2.5, 2: 0.5},
                                 random_state=0).fit(X, y)
    ok([dump(est, tmp_path / "w.pkl"), "--out", tmp_path, "--features", ",".join(FEATURES)])
    art = load_json(tmp_path / "w.json")
    for t, d in zip(est.estimators_, art["trees"]):
        check_covers(d, t.tree_)
        assert d["weighted_n_node_samples"] != [float(v) for v in d["n_node_samples"]]
        assert list(d)[:8] == ["children_left", "children_right", "feature", "threshold", "value",
                               "n_node_samples", "weighted_n_node_samples", "impurity"]


def fit_with_nan(make, X, y):
    Xn = X.copy()
    Xn[::5, 2] = np.nan
    Xn[1::7, 0] = np.nan
    try:
        return make().fit(Xn, y), Xn
    except ValueError:
        pytest.skip(f"scikit-learn {sklearn.__version__} does not train this estimator with NaN")


@pytest.mark.parametrize("est_name", list(ESTIMATORS))
def test_nan_trained(tmp_path, iris, est_name):
    X, y = iris
    make, kind = ESTIMATORS[est_name]
    est, Xn = fit_with_nan(make, X, y)
    model = dump(est, tmp_path / "nan.pkl")
    ok([model, "--out", tmp_path, "--features", ",".join(FEATURES), "--classes", "a,b,c"])
    art = load_json(tmp_path / "nan.json")
    assert all("missing_go_to_left" in t for t in art["trees"])
    trees = [est] if kind == "decision_tree" else est.estimators_
    for t, d in zip(trees, art["trees"]):
        check_covers(d, t.tree_)
        want = np.where(np.isinf(t.tree_.threshold), np.copysign(np.finfo(np.float64).max, t.tree_.threshold),
                        t.tree_.threshold)
        assert np.array_equal(np.array(d["threshold"]), want)  # +inf (missing vs present) as the largest float64
    par = load_json(tmp_path / "nan.parity.json")
    nan_cases = [c for c in par["cases"] if None in c["input"]]
    assert len(nan_cases) >= len(FEATURES)
    assert any(c["name"] == "edge/nan/all" for c in nan_cases)
    A = parity_inputs(par)
    assert np.array_equal(np.array([c["proba"] for c in par["cases"]]), est.predict_proba(A))
    check_parity_against_artifact(art, par)


def test_names_from_dataframe(tmp_path, iris):
    pd = pytest.importorskip("pandas")
    X, y = iris
    est = DecisionTreeClassifier(random_state=0).fit(pd.DataFrame(X, columns=["a", "b", "c", "d"]), y)
    model = dump(est, tmp_path / "df.joblib")
    ok([model, "--out", tmp_path])
    assert load_json(tmp_path / "df.json")["features"] == ["a", "b", "c", "d"]
    assert load_json(tmp_path / "df.json")["classes"] == ["0", "1", "2"]
    # flags override the model's names
    ok([model, "--out", tmp_path, "--name", "renamed", "--features", "w,x,y,z", "--classes", "p,q,r"])
    art = load_json(tmp_path / "renamed.json")
    assert art["features"] == ["w", "x", "y", "z"] and art["classes"] == ["p", "q", "r"]
    assert load_json(tmp_path / "renamed.parity.json")["cases"][0]["label"] in ("p", "q", "r")


def test_names_errors(tmp_path, iris):
    X, y = iris
    model = dump(DecisionTreeClassifier(random_state=0).fit(X, y), tmp_path / "plain.pkl")
    fails([model, "--out", tmp_path], "does not name its 4 features", "--features")
    fails([model, "--out", tmp_path, "--features", "a,b,c"], "gives 3 feature names", "has 4")
    fails([model, "--out", tmp_path, "--features", "a,b,c,c"], "not unique")
    fails([model, "--out", tmp_path, "--features", "a,b,c,d", "--classes", "x,y"], "gives 2 class names")
    fails([model, "--out", tmp_path, "--features", "a,b,,d"], "non-empty")
    names = tmp_path / "features.txt"
    names.write_text("a\nb\nc\nd\n")
    ok([model, "--out", tmp_path, "--features-file", names])
    assert load_json(tmp_path / "plain.json")["features"] == ["a", "b", "c", "d"]
    fails([model, "--out", tmp_path, "--features-file", tmp_path / "nope.txt"], "cannot read")
    fails([model, "--out", tmp_path, "--features-file", names, "--features", "a,b,c,d"], "not both")
    classes = tmp_path / "classes.txt"
    classes.write_text("x\n\ny\nz\n")  # blank lines are skipped
    ok([model, "--out", tmp_path, "--features-file", names, "--classes-file", classes])
    assert load_json(tmp_path / "plain.json")["classes"] == ["x", "y", "z"]
    fails([model, "--out", tmp_path, "--features-file", names, "--classes-file", classes, "--classes", "a,b,c"],
          "not both")


def test_labels_that_collide(tmp_path, iris):
    X, y = iris
    est = DecisionTreeClassifier(random_state=0).fit(X, np.array([1.0, 2.0, 3.0])[y])
    est.classes_ = np.array(["1", 1, 2], dtype=object)  # str() makes "1" twice
    model = dump(est, tmp_path / "dup.pkl")
    fails([model, "--out", tmp_path, "--features", "a,b,c,d"], "class names are not unique", "--classes")


def test_refused(tmp_path, iris):
    X, y = iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pipe = make_pipeline(StandardScaler(), DecisionTreeClassifier(random_state=0)).fit(X, y)
    fails([dump(pipe, tmp_path / "pipe.pkl"), "--out", tmp_path], "Pipeline is not supported")
    lr = LogisticRegression(max_iter=200).fit(X, y)
    fails([dump(lr, tmp_path / "lr.pkl"), "--out", tmp_path], "unsupported estimator type", "LogisticRegression")
    multi = DecisionTreeClassifier(random_state=0).fit(X, np.column_stack([y, y == 1]))
    fails([dump(multi, tmp_path / "multi.pkl"), "--out", tmp_path, "--features", "a,b,c,d"], "multi-output")
    fails([dump(RandomForestClassifier(), tmp_path / "unfit.pkl"), "--out", tmp_path], "not fitted")
    fails([dump({"a": 1}, tmp_path / "dict.pkl"), "--out", tmp_path], "unsupported estimator type", "dict")
    assert not list(tmp_path.glob("*.json"))  # nothing written on error


def test_large_forest_bounded(tmp_path, iris):
    X, y = iris
    est = RandomForestClassifier(n_estimators=60, random_state=1).fit(X, y)
    model = dump(est, tmp_path / "big.joblib")
    ok([model, "--out", tmp_path, "--features", ",".join(FEATURES)])
    par = load_json(tmp_path / "big.parity.json")
    assert len(par["cases"]) <= 2000
    ok([model, "--out", tmp_path, "--features", ",".join(FEATURES), "--max-cases", "300", "--name", "small"])
    small = load_json(tmp_path / "small.parity.json")
    assert 250 <= len(small["cases"]) <= 300
    A = parity_inputs(small)
    assert np.array_equal(np.array([c["proba"] for c in small["cases"]]), est.predict_proba(A))
    assert not math.isnan(A[0, 0])
