"""The command: errors, determinism, sample rows, the registry, and the Go side's view of what it wrote."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier

from conftest import FEATURES, dump, fails, load_json, ok, run

PYTHON_DIR = Path(__file__).resolve().parents[1]
REPO = PYTHON_DIR.parent
FEATS = ["--features", ",".join(FEATURES)]


@pytest.fixture
def forest(tmp_path, iris):
    X, y = iris
    est = RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0).fit(X, y)
    return est, dump(est, tmp_path / "forest.joblib")


def test_unreadable_inputs(tmp_path):
    fails([tmp_path / "absent.joblib", "--out", tmp_path], "absent.joblib: cannot read")
    (tmp_path / "empty.pkl").write_bytes(b"")
    fails([tmp_path / "empty.pkl", "--out", tmp_path], "empty")
    (tmp_path / "junk.pkl").write_bytes(b"this is not a model\n" * 10)
    fails([tmp_path / "junk.pkl", "--out", tmp_path], "not a joblib or pickle file")
    (tmp_path / "dir.pkl").mkdir()
    fails([tmp_path / "dir.pkl", "--out", tmp_path], "cannot read")


def test_usage_errors(tmp_path, forest):
    _, model = forest
    rc, _, err = run([model])  # no --out
    assert rc == 2 and "--out" in err
    fails([model, "--out", tmp_path, *FEATS, "--name", "../x"], "model name")
    fails([model, "--out", tmp_path, *FEATS, "--max-cases", "0"], "--max-cases")
    fails([model, "--out", tmp_path, *FEATS, "--metric", "name=acc"], "method= is required")
    fails([model, "--out", tmp_path, *FEATS, "--metric", "name=a,method=m,value=0.9"], "need --registry")
    fails([model, "--out", tmp_path, *FEATS, "--registry", tmp_path / "r", "--created", "yesterday"], "RFC 3339")
    fails([model, "--out", tmp_path, *FEATS, "--rows", tmp_path / "none.csv"], "cannot read rows")


def test_subprocess_no_traceback(tmp_path):
    r = subprocess.run([sys.executable, "-m", "classify_export", str(tmp_path / "absent.pkl"), "--out", str(tmp_path)],
                       capture_output=True, text=True, cwd=PYTHON_DIR,
                       env={**os.environ, "PYTHONPATH": str(PYTHON_DIR)})
    assert r.returncode == 2
    assert r.stderr.startswith("classify-export: error: ") and "Traceback" not in r.stderr


def tree_bytes(d):
    return {p.name: p.read_bytes() for p in sorted(Path(d).iterdir()) if p.is_file()}


@pytest.mark.parametrize("family", ["sklearn", "xgboost"])
def test_deterministic(tmp_path, iris, family):
    X, y = iris
    if family == "sklearn":
        est = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    else:
        xgboost = pytest.importorskip("xgboost")
        est = xgboost.XGBClassifier(n_estimators=4, max_depth=3, random_state=0, n_jobs=1).fit(X, y)
    model = dump(est, tmp_path / "m.pkl")
    env = {"SOURCE_DATE_EPOCH": "1764496800"}
    for d in ("a", "b"):
        ok([model, "--out", tmp_path / d, *FEATS, "--registry", tmp_path / ("reg" + d)], environ=env)
    assert tree_bytes(tmp_path / "a") == tree_bytes(tmp_path / "b")
    assert tree_bytes(tmp_path / "rega") == tree_bytes(tmp_path / "regb")
    assert load_json(tmp_path / "rega" / "manifest.json")["models"][0]["created"] == "2025-11-30T10:00:00Z"
    ok([model, "--out", tmp_path / "c", *FEATS, "--seed", "7"])
    a, c = tree_bytes(tmp_path / "a"), tree_bytes(tmp_path / "c")
    assert a["m.parity.json"] != c["m.parity.json"]
    assert {k: v for k, v in a.items() if "parity" not in k} == {k: v for k, v in c.items() if "parity" not in k}


def test_rows_csv(tmp_path, iris):
    X, y = iris
    est = DecisionTreeClassifier(random_state=0).fit(X, y)
    model = dump(est, tmp_path / "dt.pkl")
    csv = tmp_path / "rows.csv"
    # columns in another order than the model's
    csv.write_text("petal_width,sepal_length,petal_length,sepal_width\n0.2,5.1,1.4,3.5\n1.8,6.3,5.0,2.9\n")
    ok([model, "--out", tmp_path, *FEATS, "--rows", csv, "--rows-only"])
    par = load_json(tmp_path / "dt.parity.json")
    assert [c["input"] for c in par["cases"]] == [[5.1, 3.5, 1.4, 0.2], [6.3, 2.9, 5.0, 1.8]]
    assert [c["name"] for c in par["cases"]] == ["rows/0", "rows/1"]
    assert [c["label"] for c in par["cases"]] == [str(v) for v in est.predict(np.array([[5.1, 3.5, 1.4, 0.2],
                                                                                        [6.3, 2.9, 5.0, 1.8]]))]
    ok([model, "--out", tmp_path, *FEATS, "--rows", csv])
    full = load_json(tmp_path / "dt.parity.json")
    assert full["cases"][:2] == par["cases"] and len(full["cases"]) > 2

    bad = tmp_path / "bad.csv"
    bad.write_text("sepal_length,sepal_width,petal_length\n1,2,3\n")
    fails([model, "--out", tmp_path, *FEATS, "--rows", bad], "missing ['petal_width']")
    bad.write_text("sepal_length,sepal_width,petal_length,petal_width\n1,2,x,4\n")
    fails([model, "--out", tmp_path, *FEATS, "--rows", bad], "bad.csv:2", "not a number")
    bad.write_text("sepal_length,sepal_width,petal_length,petal_width\n1,2,3,1e40\n")
    fails([model, "--out", tmp_path, *FEATS, "--rows", bad], "too large for float32")

    missing = tmp_path / "missing.csv"
    missing.write_text("sepal_length,sepal_width,petal_length,petal_width\n5.1,,1.4,0.2\n")
    row = np.array([[0.0, np.nan, 0.0, 0.0]])
    try:
        est.predict_proba(row)
        takes_nan = hasattr(est.tree_, "missing_go_to_left")
    except ValueError:
        takes_nan = False
    if takes_nan:
        ok([model, "--out", tmp_path, *FEATS, "--rows", missing, "--rows-only"])
        assert load_json(tmp_path / "dt.parity.json")["cases"][0]["input"] == [5.1, None, 1.4, 0.2]
    else:
        fails([model, "--out", tmp_path, *FEATS, "--rows", missing], "does not accept missing values")


def test_registry(tmp_path, forest, iris):
    _, model = forest
    reg = tmp_path / "reg"
    ok([model, "--out", tmp_path / "out", *FEATS, "--registry", reg, "--created", "2026-11-30T11:00:00+01:00",
        "--metric", "name=accuracy,method=holdout,value=0.95,std=0.01,source=report.json"])
    m = load_json(reg / "manifest.json")
    assert m["format"] == "classify/manifest" and m["format_version"] == 1
    (e,) = m["models"]
    art = (reg / "forest.json").read_bytes()
    assert art == (tmp_path / "out" / "forest.json").read_bytes()
    assert e == {
        "name": "forest", "kind": "random_forest", "file": "forest.json",
        "sha256": hashlib.sha256(art).hexdigest(), "version": "1.0.0", "created": "2026-11-30T10:00:00Z",
        "features": FEATURES, "classes": ["0", "1", "2"],
        "metrics": [{"name": "accuracy", "method": "holdout", "value": 0.95, "std": 0.01, "source": "report.json"}],
    }
    assert not (reg / "forest.parity.json").exists()

    X, y = iris
    dump(DecisionTreeClassifier(random_state=0).fit(X, y), tmp_path / "tree.pkl")
    ok([tmp_path / "tree.pkl", "--out", tmp_path / "out", *FEATS, "--registry", reg, "--classes", "a,b,c"])
    ok([model, "--out", tmp_path / "out", *FEATS, "--registry", reg, "--version", "2.0.0"])
    m = load_json(reg / "manifest.json")
    assert [e["name"] for e in m["models"]] == ["forest", "tree"]  # replaced in place, others kept
    assert m["models"][0]["version"] == "2.0.0" and m["models"][0]["metrics"] == []

    m["models"][1]["file"] = "other.json"
    (reg / "manifest.json").write_text(json.dumps(m))
    fails([model, "--out", tmp_path / "new", *FEATS, "--registry", reg, "--name", "other"],
          "model 'tree' already uses file 'other.json'")
    (reg / "manifest.json").write_text('{"format": "something else"}')
    fails([model, "--out", tmp_path / "new", *FEATS, "--registry", reg], "not a classify/manifest v1 manifest")
    assert not (tmp_path / "new").exists()  # nothing written when the registry is refused


def go_cli(tmp_path_factory):
    go = shutil.which("go")
    if go is None or not (REPO / "go.mod").exists() or not (REPO / "cmd" / "classify").is_dir():
        pytest.skip("no Go toolchain or classify repository beside python/")
    exe = tmp_path_factory.mktemp("go") / "classify"
    r = subprocess.run([go, "build", "-o", str(exe), "./cmd/classify"], cwd=REPO, capture_output=True, text=True)
    if r.returncode != 0:
        pytest.fail(f"go build ./cmd/classify: {r.stderr}")
    return exe


@pytest.fixture(scope="module")
def classify_cli(tmp_path_factory):
    return go_cli(tmp_path_factory)


def test_go_reads_the_manifest(tmp_path, forest, iris, classify_cli):
    """The Go registry opens what the exporter wrote (it validates every entry)."""
    _, model = forest
    reg = tmp_path / "reg"
    ok([model, "--out", tmp_path / "out", *FEATS, "--registry", reg,
        "--metric", "name=accuracy,method=holdout,value=0.95"])
    try:
        import xgboost
    except ImportError:
        xgboost = None
    if xgboost is not None:
        X, y = iris
        clf = xgboost.XGBClassifier(n_estimators=3, max_depth=2, n_jobs=1).fit(X, y)
        fmt = ["--xgb-format", "binary"] if int(xgboost.__version__.split(".")[0]) < 2 else []
        ok([dump(clf, tmp_path / "xgb.pkl"), "--out", tmp_path / "out", *FEATS, "--registry", reg,
            "--classes", "setosa,versicolor,virginica", *fmt])
    r = subprocess.run([str(classify_cli), "models", "-registry", str(reg)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "forest" in r.stdout
    if xgboost is not None and int(xgboost.__version__.split(".")[0]) < 2:
        # Go loads the legacy binary today: a registry of it alone verifies whole (checksums and loading)
        reg2 = tmp_path / "reg2"
        ok([tmp_path / "xgb.pkl", "--out", tmp_path / "out2", *FEATS, "--registry", reg2,
            "--classes", "setosa,versicolor,virginica", "--xgb-format", "binary"])
        r = subprocess.run([str(classify_cli), "verify", "-registry", str(reg2)], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
        assert r.stdout.startswith("ok")


def go_predict(classify_cli, artifact, kind, features, inputs, tmp_path):
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps(dict(zip(features, x))) + "\n" for x in inputs))
    # -allow-non-positive: the parity cases hold 0 and negative far-out values, which the
    # command (like the server) refuses by default.
    r = subprocess.run([str(classify_cli), "predict", "-artifact", str(artifact), "-kind", kind, "-on-error", "fail",
                        "-allow-non-positive", str(rows)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return [json.loads(line) for line in r.stdout.splitlines()]


def test_go_agrees_with_the_parity_file(tmp_path, iris, classify_cli):
    """Go's predict agrees with the parity file on the older formats too: the v3 artifact read
    back as v1 (without `estimator`, missing-value directions and covers, so without the NaN cases),
    and XGBoost's legacy binary where the library still writes it."""
    X, y = iris
    est = RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0).fit(X, y)
    ok([dump(est, tmp_path / "rf.pkl"), "--out", tmp_path, *FEATS, "--classes", "a,b,c"])
    doc = load_json(tmp_path / "rf.json")
    v1 = {k: v for k, v in doc.items() if k != "estimator"}
    v1["format_version"] = 1
    v1_keys = ("children_left", "children_right", "feature", "threshold", "value")
    v1["trees"] = [{k: t[k] for k in v1_keys} for t in doc["trees"]]
    (tmp_path / "rf_v1.json").write_text(json.dumps(v1))
    par = load_json(tmp_path / "rf.parity.json")
    cases = [c for c in par["cases"] if None not in c["input"]]
    got = go_predict(classify_cli, tmp_path / "rf_v1.json", "random_forest", FEATURES, [c["input"] for c in cases],
                     tmp_path)
    for c, g in zip(cases, got):
        assert g["prediction"] == c["label"], c["name"]
        assert max(abs(g["probabilities"][k] - p) for k, p in zip(par["classes"], c["proba"])) <= 1e-9, c["name"]

    xgboost = pytest.importorskip("xgboost")
    if int(xgboost.__version__.split(".")[0]) >= 2:
        return  # xgboost 2 and later write no legacy binary
    clf = xgboost.XGBClassifier(n_estimators=5, max_depth=3, n_jobs=1).fit(X, y)
    ok([dump(clf, tmp_path / "x.pkl"), "--out", tmp_path, *FEATS, "--classes", "a,b,c", "--xgb-format", "binary"])
    par = load_json(tmp_path / "x.parity.json")
    cases = [c for c in par["cases"] if None not in c["input"]]
    got = go_predict(classify_cli, tmp_path / "x.model", "xgboost", FEATURES, [c["input"] for c in cases], tmp_path)
    for c, g in zip(cases, got):  # Go reads the sidecar beside the model: class names a, b, c
        assert g["prediction"] == c["label"], c["name"]
        assert max(abs(g["probabilities"][k] - p) for k, p in zip(par["classes"], c["proba"])) <= 1e-6, c["name"]


@pytest.mark.parametrize("model", ["forest", "xgboost"])
def test_go_verify_parity_on_the_export(tmp_path, iris, classify_cli, model):
    """Go's verify-parity passes on what the command writes, as written (v3 artifact, NaN cases, UBJSON)."""
    X, y = iris
    if model == "forest":
        est = RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0).fit(X, y)
    else:
        import xgboost

        est = xgboost.XGBClassifier(n_estimators=5, max_depth=3, n_jobs=1).fit(X, y)
    ok([dump(est, tmp_path / "m.pkl"), "--out", tmp_path, *FEATS, "--classes", "a,b,c"])
    r = subprocess.run([str(classify_cli), "verify-parity", str(tmp_path / "m.parity.json")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "result                          ok" in r.stdout
