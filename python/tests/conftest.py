"""Shared helpers: small fitted models, running the command in-process, reading what it wrote."""
from __future__ import annotations

import io
import json
import math
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the package source beside tests/

from classify_export import cli  # noqa: E402

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def version_tuple(v):
    return tuple(int("".join(ch for ch in p if ch.isdigit()) or 0) for p in v.split(".")[:3])


@pytest.fixture(scope="session")
def iris():
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    return X.astype(np.float64), y.astype(np.int64)


def dump(obj, path):
    """A fitted object to a file, joblib when the name says so, else pickle."""
    path = Path(path)
    if path.suffix == ".joblib":
        import joblib

        joblib.dump(obj, path)
    else:
        path.write_bytes(pickle.dumps(obj))
    return path


def run(args, environ=None):
    """The command in-process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        rc = cli.run([str(a) for a in args], stdout=out, stderr=err, environ=environ or {})
    except SystemExit as e:  # argparse usage errors
        rc = e.code
    return rc, out.getvalue(), err.getvalue()


def ok(args, environ=None):
    rc, out, err = run(args, environ)
    assert rc == 0, err
    return out


def fails(args, *needles):
    rc, out, err = run(args)
    assert rc == 2, (rc, out, err)
    assert "Traceback" not in err
    for n in needles:
        assert n in err, err
    return err


def load_json(path):
    return json.loads(Path(path).read_text())


def parity_inputs(doc):
    """The parity file's inputs as a float64 array, null as NaN."""
    return np.array([[math.nan if v is None else v for v in c["input"]] for c in doc["cases"]], dtype=np.float64)


def eval_sklearn_trees(doc, x):
    """An independent reading of classify/sklearn-trees (the prediction fields of versions 2 and 3): what the Go loader must compute."""
    probs = np.zeros(len(doc["classes"]))
    for t in doc["trees"]:
        n = 0
        while t["children_left"][n] != -1:
            v = x[t["feature"][n]]
            if math.isnan(v):
                go_left = bool(t["missing_go_to_left"][n])
            else:
                go_left = float(np.float32(v)) <= t["threshold"][n]
            n = t["children_left"][n] if go_left else t["children_right"][n]
        leaf = np.array(t["value"][n], dtype=np.float64)
        s = leaf.sum()
        probs = probs + leaf / (s if s != 0 else 1.0)
    return probs / len(doc["trees"])


def check_parity_against_artifact(art, par):
    """Every parity case: the evaluator's probabilities within tolerance, the label the argmax."""
    for c in par["cases"]:
        x = [math.nan if v is None else v for v in c["input"]]
        p = eval_sklearn_trees(art, x)
        assert np.max(np.abs(p - np.array(c["proba"]))) <= par["tolerance"], c["name"]
        assert art["classes"][int(np.argmax(c["proba"]))] == c["label"], c["name"]
