"""classify_export.export called from Python on an in-memory estimator."""
from __future__ import annotations

import pytest
from sklearn.tree import DecisionTreeClassifier

from conftest import FEATURES, load_json

from classify_export import ExportError, export


def test_export_object(tmp_path, iris):
    X, y = iris
    est = DecisionTreeClassifier(random_state=0, max_depth=2).fit(X, y)
    r = export(est, tmp_path, name="tree", features=FEATURES, classes=["a", "b", "c"], max_cases=50,
               registry_dir=tmp_path / "reg", created="2026-01-02T03:04:05Z")
    assert r.kind == "decision_tree" and r.cases <= 50 and r.meta is None
    assert r.artifact == tmp_path / "tree.json" and r.parity == tmp_path / "tree.parity.json"
    assert load_json(r.manifest)["models"][0]["created"] == "2026-01-02T03:04:05Z"
    with pytest.raises(ExportError, match="needs a name"):
        export(est, tmp_path, features=FEATURES)


def test_rows_in_memory(tmp_path, iris):
    X, y = iris
    est = DecisionTreeClassifier(random_state=0, max_depth=3).fit(X, y)
    r = export(est, tmp_path, name="t", features=FEATURES, rows=X[:10], rows_only=True)
    par = load_json(r.parity)
    assert [c["input"] for c in par["cases"]] == X[:10].tolist()
    assert [c["label"] for c in par["cases"]] == [str(v) for v in est.predict(X[:10])]
    with pytest.raises(ExportError, match="4 columns"):
        export(est, tmp_path, name="t", features=FEATURES, rows=X[:10, :3])
    with pytest.raises(ExportError, match="too large for float32"):
        export(est, tmp_path, name="t", features=FEATURES, rows=[[1e39, 1, 1, 1]])


def test_budget_never_exceeded():
    from classify_export.parity import build_cases

    features = [f"x{i}" for i in range(300)]  # far-out and NaN cases alone exceed the budget
    splits = [(i % 300, float(i)) for i in range(1000)]
    for n in (1, 10, 500, 2000, 6000):
        cases = build_cases(features, splits, True, max_cases=n, n_random=50)
        assert len(cases) <= n
        assert len({tuple(map(repr, x)) for _, x in cases}) == len(cases)  # no duplicate inputs
    assert build_cases(features, splits, True, max_cases=500) == build_cases(features, splits, True, max_cases=500)
