"""Real clients against the real server: Triton's Python clients (tritonclient.http and
tritonclient.grpc, pinned in tests/requirements-clients.txt) talk to the built cmd/serve binary
over both protocols, and every answer is compared with the library's own predictions for the
same rows (bin/classify predict on research/data/iris.csv).

Run with `make client-test`, which builds the binaries and passes their paths in CLASSIFY_SERVE
and CLASSIFY_CLI.
"""

import csv
import io
import json
import os
import pathlib
import subprocess
import threading

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

ROOT = pathlib.Path(__file__).resolve().parents[2]
IRIS = ROOT / "research" / "data" / "iris.csv"
MODELS = ["heuristic", "decision_tree", "random_forest", "xgboost"]
FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
CLASSES = ["setosa", "versicolor", "virginica"]


def binary(name):
    path = os.environ.get(name)
    if not path:
        pytest.fail(f"{name} is not set: run make client-test")
    return path


@pytest.fixture(scope="module")
def server():
    """The serve binary on free loopback ports, every model a variant (weight 0 but heuristic's:
    the protocol addresses each by name)."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "MPS_API_HOST": "127.0.0.1",
        "MPS_API_PORT": "0",
        "MPS_GRPC_PORT": "0",
        "MPS_MODEL_TYPE": "heuristic=1,decision_tree=0,random_forest=0,xgboost=0",
    }
    proc = subprocess.Popen([binary("CLASSIFY_SERVE")], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    listening = {}
    lines = []
    ready = threading.Event()

    def read():
        for line in proc.stdout:
            lines.append(line)
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if msg.get("msg") == "listening":
                listening.update(msg)
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(15) or not listening:
        proc.kill()
        pytest.fail("the server did not start: " + "".join(lines) + proc.stderr.read())
    yield listening
    proc.terminate()
    assert proc.wait(15) == 0, "the server did not shut down cleanly"


@pytest.fixture(scope="module")
def rows():
    with open(IRIS, newline="") as f:
        return np.array([[float(r[k]) for k in FEATURES] for r in csv.DictReader(f)], dtype=np.float64)


@pytest.fixture(scope="module")
def expected():
    """The library's answers: model → (labels, probabilities) for every row of iris.csv."""
    out = {}
    for model in MODELS:
        res = subprocess.run([binary("CLASSIFY_CLI"), "predict", "-model", model, "-progress", "never", str(IRIS)],
                             check=True, capture_output=True, text=True)
        recs = list(csv.DictReader(io.StringIO(res.stdout)))
        assert len(recs) == 150
        labels = np.array([r["prediction"] for r in recs], dtype=object)
        proba = np.array([[float(r["probability_" + c]) for c in CLASSES] for r in recs])
        out[model] = (labels, proba)
    return out


@pytest.fixture(scope="module")
def http(server):
    c = httpclient.InferenceServerClient(url=server["addr"])
    yield c
    c.close()


@pytest.fixture(scope="module")
def grpc(server):
    c = grpcclient.InferenceServerClient(url=server["grpc_addr"])
    yield c
    c.close()


def test_server_health_and_metadata(http, grpc):
    assert http.is_server_live() and http.is_server_ready()
    assert grpc.is_server_live() and grpc.is_server_ready()
    md = http.get_server_metadata()
    assert md["name"] == "classify"
    gmd = grpc.get_server_metadata(as_json=True)
    assert gmd["name"] == "classify"
    assert gmd.get("version", "") == md["version"]


@pytest.mark.parametrize("model", MODELS)
def test_model_metadata_and_readiness(http, grpc, model):
    assert http.is_model_ready(model)
    assert grpc.is_model_ready(model)
    md = http.get_model_metadata(model)
    gmd = grpc.get_model_metadata(model, as_json=True)
    for m in (md, gmd):
        assert m["name"] == model
        assert m["platform"] == "classify_" + model
        assert len(m["versions"]) == 1
        assert [int(d) for d in m["inputs"][0]["shape"]] == [-1, 4]
        want = [("label", "BYTES"), ("probabilities", "FP64")]
        if model != "heuristic":  # the tree models also answer contributions
            want.append(("contributions", "FP64"))
            assert [int(d) for d in m["outputs"][2]["shape"]] == [-1, 3, 5]
        assert [(o["name"], o["datatype"]) for o in m["outputs"]] == want
        assert [int(d) for d in m["outputs"][1]["shape"]] == [-1, 3]
    assert md["versions"] == gmd["versions"]


def infer_http(client, model, rows, datatype, binary_data):
    inp = httpclient.InferInput("input", list(rows.shape), datatype)
    inp.set_data_from_numpy(rows.astype(np.float32 if datatype == "FP32" else np.float64), binary_data=binary_data)
    outputs = [httpclient.InferRequestedOutput("label", binary_data=binary_data),
               httpclient.InferRequestedOutput("probabilities", binary_data=binary_data)]
    return client.infer(model, [inp], outputs=outputs, request_id="py-1")


def infer_grpc(client, model, rows, datatype):
    inp = grpcclient.InferInput("input", list(rows.shape), datatype)
    inp.set_data_from_numpy(rows.astype(np.float32 if datatype == "FP32" else np.float64))
    outputs = [grpcclient.InferRequestedOutput("label"), grpcclient.InferRequestedOutput("probabilities")]
    return client.infer(model, [inp], outputs=outputs, request_id="py-1")


def labels_of(result):
    return np.array([v.decode() if isinstance(v, bytes) else v for v in result.as_numpy("label")], dtype=object)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("datatype", ["FP64", "FP32"])
@pytest.mark.parametrize("protocol", ["http-json", "http-binary", "grpc"])
def test_infer_matches_library(http, grpc, rows, expected, model, datatype, protocol):
    want_labels, want_proba = expected[model]
    # Three requests: 1 row, 64 rows, and the rest, as clients batch.
    got_labels, got_proba = [], []
    for part in (rows[:1], rows[1:65], rows[65:]):
        if protocol == "grpc":
            res = infer_grpc(grpc, model, part, datatype)
        else:
            res = infer_http(http, model, part, datatype, protocol == "http-binary")
        name = res.get_response().model_name if protocol == "grpc" else res.get_response()["model_name"]
        assert name == model
        got_labels.append(labels_of(res))
        got_proba.append(res.as_numpy("probabilities"))
    labels, proba = np.concatenate(got_labels), np.concatenate(got_proba)
    assert proba.shape == (150, 3)
    assert proba.dtype == np.float64
    if datatype == "FP64":
        # The same float64 rows the library read: the same answers, to the bit.
        assert list(labels) == list(want_labels)
        np.testing.assert_allclose(proba, want_proba, rtol=0, atol=1e-12)
    else:
        # FP32 rows are rounded to float32 first; every model but the heuristic decides in
        # float32 anyway, and on Iris no row sits on a rule's edge.
        assert list(labels) == list(want_labels)
        np.testing.assert_allclose(proba, want_proba, rtol=0, atol=1e-6)


def test_errors(http, grpc, rows):
    with pytest.raises(InferenceServerException) as e:
        http.get_model_metadata("iris")
    assert "not served here" in e.value.message()
    with pytest.raises(InferenceServerException) as e:
        grpc.get_model_metadata("iris")
    assert e.value.status() == "StatusCode.NOT_FOUND"
    assert "not served here" in e.value.message()

    bad = rows[:2, :3]
    for protocol in ("http", "grpc"):
        with pytest.raises(InferenceServerException) as e:
            if protocol == "grpc":
                infer_grpc(grpc, "heuristic", bad, "FP64")
            else:
                infer_http(http, "heuristic", bad, "FP64", False)
        assert "expected [N, 4]" in e.value.message(), protocol
    with pytest.raises(InferenceServerException) as e:
        infer_http(http, "iris", rows[:1], "FP64", True)
    assert e.value.status() == "404"
    with pytest.raises(InferenceServerException) as e:
        infer_grpc(grpc, "heuristic", np.zeros((1001, 4)) + 1, "FP64")
    assert e.value.status() == "StatusCode.INVALID_ARGUMENT"
    assert "at most 1000" in e.value.message()
