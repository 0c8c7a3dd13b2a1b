"""Fit a production model on all 150 rows and store it as a timestamped candidate.

    python3 research/train.py NAME [NAME ...]     # heuristic decision_tree random_forest xgboost

A candidate is research/models/<name>/<UTC timestamp>/ holding the artifact (and, for XGBoost,
its .meta.json sidecar) plus candidate.json (hyperparameters, data checksum, metrics from
research/results/<name>.json, creation time, version). If the newest candidate already holds
exactly what this run produces (artifact bytes and candidate.json apart from its creation time
and version), no new candidate is written: reruns of unchanged code leave research/models/ as it
is, and the candidate's timestamp stays the model's `created` time in the manifest.
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
import exporters  # noqa: E402
import production  # noqa: E402
import rules  # noqa: E402

FILES = {"heuristic": "heuristic.json", "decision_tree": "decision_tree.json",
         "random_forest": "random_forest.json", "xgboost": "xgboost.json"}
MANIFEST_METHODS = (common.LOOCV_METHOD, common.KFOLD_METHOD, common.OOB_METHOD)


def build(name, X, y):
    """Return ({filename: bytes}, hyperparameters) for a production model fitted on X, y."""
    if name == "heuristic":
        doc = rules.build_rules(rules.derive(X, y))
        return {FILES[name]: exporters.rules_bytes(doc)}, {"derivation": "research/rules.py derive()"}
    model = production.make(name).fit(X, y)
    hp = production.HYPERPARAMETERS[name]
    if name in ("decision_tree", "random_forest"):
        return {FILES[name]: exporters.sklearn_trees_bytes(model, common.FEATURES, common.CLASSES)}, hp
    if name == "xgboost":
        return {FILES[name]: exporters.xgboost_model_bytes(model),
                FILES[name] + ".meta.json": exporters.xgboost_meta_bytes(hp["objective"], common.FEATURES,
                                                                          common.CLASSES)}, hp
    raise SystemExit(f"unknown model {name}")


def manifest_metrics(name):
    path = common.RESULTS / f"{name}.json"
    if not path.exists():
        raise SystemExit(f"{common.rel(path)} missing: run the {name} experiment first")
    results = json.loads(path.read_text())
    out = []
    for m in results["metrics"]:
        if m["method"] in MANIFEST_METHODS:
            entry = {"name": m["name"], "method": m["method"], "value": m["value"]}
            if "std" in m:
                entry["std"] = m["std"]
            entry["source"] = common.rel(path)
            out.append(entry)
    return out


def candidates(name):
    d = common.CANDIDATES / name
    return sorted(p for p in d.iterdir() if p.is_dir()) if d.exists() else []


def comparable(c):
    return {k: v for k, v in c.items() if k not in ("created", "version")}


def train(name):
    X, y, _ = common.load_iris_csv()
    files, hp = build(name, X, y)
    artifact = FILES[name]
    cand = {
        "format": "classify/candidate",
        "format_version": 1,
        "name": name,
        "kind": name,
        "file": artifact,
        "sha256": common.sha256_bytes(files[artifact]),
        "version": None,
        "created": None,
        "features": common.FEATURES,
        "classes": common.CLASSES,
        "hyperparameters": hp,
        "trained_on": {"file": common.rel(common.DATA_CSV), "sha256": common.sha256_file(common.DATA_CSV),
                       "rows": int(y.size)},
        "metrics": manifest_metrics(name),
        "versions": common.library_versions(),
    }
    if name == "xgboost":
        cand["meta_sha256"] = common.sha256_bytes(files[artifact + ".meta.json"])

    existing = candidates(name)
    if existing:
        last = existing[-1]
        old = json.loads((last / "candidate.json").read_text())
        same_files = all((last / f).exists() and (last / f).read_bytes() == b for f, b in files.items())
        if same_files and comparable(old) == comparable(cand):
            print(f"{name}: unchanged, newest candidate {common.rel(last)} holds this model")
            return last
    now = datetime.now(timezone.utc).replace(microsecond=0)
    cand["created"] = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    cand["version"] = f"1.0.{len(existing)}"
    out = common.CANDIDATES / name / now.strftime("%Y%m%dT%H%M%SZ")
    out.mkdir(parents=True, exist_ok=False)
    for f, b in files.items():
        (out / f).write_bytes(b)
    common.write_json(out / "candidate.json", cand)
    print(f"{name}: new candidate {common.rel(out)} (sha256 {cand['sha256'][:12]}...)")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", default=common.NAMES, help="models to train (default: all)")
    args = ap.parse_args()
    for name in args.names:
        if name not in common.NAMES:
            raise SystemExit(f"unknown model {name!r}; expected one of {common.NAMES}")
        train(name)


if __name__ == "__main__":
    main()
