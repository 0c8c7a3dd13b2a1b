"""The reference half of perf/compare.sh: rows, a large model, parity checks and the reference
libraries' own timings, on the same rows and the same models the Go benchmarks use.

    python perf/reference.py gen   --out DIR [--csv-rows N] [--large-rounds R] [--cache DIR]
    python perf/reference.py check --dir DIR --classify BIN
    python perf/reference.py time  --dir DIR --reps R --out FILE.json
    python perf/reference.py contrib --dir DIR --reps R --out FILE.json
    python perf/reference.py cli   --dir DIR --classify BIN --reps R --out FILE.json
    python perf/reference.py score --kind KIND --csv FILE     (one timed pandas run; cli calls it)

The production XGBoost model is read from models/xgboost.json. The production decision tree and
random forest are classify's own JSON dumps, so scikit-learn's estimators are refitted here the
way research/train.py fits them (research/production.py's seeded hyperparameters, all 150 rows),
and `check` proves they are the same models: the export is byte for byte the registry's file, and
predict_proba equals what `classify predict` writes on the batch rows.

Nothing here sets OMP_NUM_THREADS: the "all cores" figures use every core, and the one-thread
figures ask the library for one thread (XGBoost's nthread, scikit-learn's n_jobs).
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "research"))

import common  # noqa: E402

KINDS = ["decision_tree", "random_forest", "xgboost"]
SEED = 42
# The large model: 50 features, 5 classes, 400 rounds (2,000 trees) of depth 8.
LARGE_FEATURES = 50
LARGE_CLASSES = 5
LARGE_SAMPLES = 5000
LARGE_ROWS = 256


def cores():
    return len(os.sched_getaffinity(0))


# ---------------------------------------------------------------------------
# Rows and models
# ---------------------------------------------------------------------------

def iris_strings():
    """Iris feature values as the CSV spells them (so every file holds the same decimals)."""
    with open(common.DATA_CSV, newline="") as f:
        r = csv.reader(f)
        header = next(r)
        if header[:4] != common.FEATURES:
            raise SystemExit(f"{common.DATA_CSV}: unexpected header {header}")
        return [row[:4] for row in r]


def write_resampled(path, n, rng, rows):
    idx = rng.integers(0, len(rows), size=n)
    lines = [",".join(common.FEATURES)]
    lines.extend(",".join(rows[i]) for i in idx)
    Path(path).write_text("\n".join(lines) + "\n")


def large_features():
    return [f"f{i}" for i in range(LARGE_FEATURES)]


def gen(args):
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = iris_strings()
    rng = np.random.default_rng(SEED)
    write_resampled(out / "batch.csv", args.batch, rng, rows)
    write_resampled(out / "big.csv", args.csv_rows, rng, rows)

    import xgboost as xgb
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=LARGE_SAMPLES + LARGE_ROWS, n_features=LARGE_FEATURES,
                               n_informative=30, n_redundant=10, n_classes=LARGE_CLASSES,
                               n_clusters_per_class=2, random_state=SEED)
    train, test = slice(0, LARGE_SAMPLES), slice(LARGE_SAMPLES, None)
    params = {"objective": "multi:softprob", "num_class": LARGE_CLASSES, "max_depth": 8, "eta": 0.1,
              "tree_method": "hist", "max_bin": 64, "seed": SEED}
    # Fitting takes most of a run (a minute or two on 2 cores), so the model is kept in the cache
    # directory under a name that says what made it; the rows are regenerated every time.
    key = f"large-xgboost{xgb.__version__}-r{args.large_rounds}-n{LARGE_SAMPLES}-seed{SEED}.json"
    cached = Path(args.cache) / key if args.cache else None
    t = time.perf_counter()
    if cached is not None and cached.exists():
        booster = xgb.Booster(model_file=str(cached))
        how = f"read from the cache {cached}"
    else:
        d = xgb.DMatrix(X[train], label=y[train], feature_names=large_features())
        booster = xgb.train(dict(params, nthread=cores()), d, num_boost_round=args.large_rounds)
        how = f"fitted in {time.perf_counter() - t:.0f} s"
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            booster.save_model(str(cached))
            how += f", cached in {cached}"
    booster.save_model(str(out / "large.json"))
    booster.save_model(str(out / "large.ubj"))
    with open(out / "large_rows.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(large_features())
        w.writerows([repr(float(v)) for v in row] for row in X[test])
    size = (out / "large.json").stat().st_size
    print(f"gen: {args.batch} batch rows, {args.csv_rows} CSV rows; large model: "
          f"{args.large_rounds * LARGE_CLASSES} trees, {size / 1e6:.1f} MB, {how}")


def read_features(path, features):
    import pandas as pd

    return pd.read_csv(path)[features].to_numpy(dtype=np.float64)


def sklearn_model(kind, n_jobs=1):
    """The production scikit-learn estimator, refitted exactly as research/train.py fits it."""
    import production

    X, y, _ = common.load_iris_csv()
    overrides = {"n_jobs": n_jobs} if kind == "random_forest" else {}
    return production.make(kind, **overrides).fit(X, y)


def xgb_booster(path, nthread):
    import xgboost as xgb

    b = xgb.Booster(model_file=str(path))
    b.set_param({"nthread": nthread})
    return b


def reference_proba(kind, X, nthread=1):
    if kind == "xgboost":
        return np.asarray(xgb_booster(common.REGISTRY / "xgboost.json", nthread).inplace_predict(X))
    return sklearn_model(kind).predict_proba(X)


# ---------------------------------------------------------------------------
# check: the reference models are the production models
# ---------------------------------------------------------------------------

def classify_proba(binary, args, path):
    out = subprocess.run([binary, "predict", "-progress", "never", *args, str(path)],
                         check=True, capture_output=True, text=True).stdout
    r = csv.DictReader(io.StringIO(out))
    cols = [c for c in r.fieldnames if c.startswith("probability_")]
    return np.array([[float(rec[c]) for c in cols] for rec in r])


def check(args):
    import exporters

    d = Path(args.dir)
    for kind in ("decision_tree", "random_forest"):
        exported = exporters.sklearn_trees_bytes(sklearn_model(kind), common.FEATURES, common.CLASSES)
        if exported != (common.REGISTRY / f"{kind}.json").read_bytes():
            raise SystemExit(f"check: refitted {kind} does not export to models/{kind}.json: "
                             "research/production.py and the registry disagree (make research-check)")
    X = read_features(d / "batch.csv", common.FEATURES)
    bounds = {"decision_tree": 1e-9, "random_forest": 1e-9, "xgboost": 1e-6}
    for kind in KINDS:
        diff = np.abs(reference_proba(kind, X) - classify_proba(args.classify, ["-model", kind], d / "batch.csv"))
        if diff.max() > bounds[kind]:
            raise SystemExit(f"check: {kind}: classify and the reference differ by {diff.max():g} "
                             f"(bound {bounds[kind]:g}) on {d / 'batch.csv'}")
        print(f"check: {kind}: same model (max |Δp| {diff.max():.2g} on {len(X)} rows)")
    XL = read_features(d / "large_rows.csv", large_features())
    ref = np.asarray(xgb_booster(d / "large.json", 1).inplace_predict(XL))
    got = classify_proba(args.classify, ["-artifact", str(d / "large.json"), "-kind", "xgboost",
                                         "-allow-non-positive"], d / "large_rows.csv")
    diff = np.abs(ref - got)
    if diff.max() > 1e-6:
        raise SystemExit(f"check: large model: classify and XGBoost differ by {diff.max():g}")
    print(f"check: xgboost_large: same predictions (max |Δp| {diff.max():.2g} on {len(XL)} rows)")


# ---------------------------------------------------------------------------
# time: the reference predictors on the batch, one row, and the large model's load
# ---------------------------------------------------------------------------

def per_call(fn, reps, min_time):
    """Median over reps of the seconds per call, each rep calling fn often enough to last
    about min_time."""
    fn()
    n, t = 1, 0.0
    while True:
        start = time.perf_counter()
        for _ in range(n):
            fn()
        t = time.perf_counter() - start
        if t >= min_time / 4:
            break
        n *= 4
    n = max(1, int(n * min_time / max(t, 1e-9)))
    samples = []
    for _ in range(reps):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        samples.append((time.perf_counter() - start) / n)
    return statistics.median(samples)


def time_cmd(args):
    d = Path(args.dir)
    reps, min_time = args.reps, args.min_time
    all_cores = cores()
    X = read_features(d / "batch.csv", common.FEATURES)
    results = {"batch_rows": len(X), "cores": all_cores, "predictors": []}

    def add(model, reference, threads, rows, single, batch):
        results["predictors"].append({
            "model": model, "reference": reference, "threads": threads, "batch_rows": len(rows),
            "single_ns": single * 1e9 if single is not None else None,
            "batch_ns_per_row": batch * 1e9 / len(rows)})
        print(f"time: {model:14s} {reference:40s} batch {batch * 1e9 / len(rows):10.1f} ns/row", flush=True)

    row = X[:1].copy()
    for kind in ("decision_tree", "random_forest"):
        m = sklearn_model(kind, n_jobs=1)
        if kind == "random_forest":
            results["forest_trees"] = len(m.estimators_)
        add(kind, "scikit-learn predict_proba", 1, X,
            per_call(lambda: m.predict_proba(row), reps, min_time),
            per_call(lambda: m.predict_proba(X), reps, min_time))
    for name, path, rows in (("xgboost", common.REGISTRY / "xgboost.json", X),
                             ("xgboost_large", d / "large.json", read_features(d / "large_rows.csv", large_features()))):
        one = rows[:1].copy()
        for threads in (1, all_cores):
            b = xgb_booster(path, threads)
            single = per_call(lambda: b.inplace_predict(one), reps, min_time) if threads == 1 else None
            add(name, "XGBoost Booster.inplace_predict", threads, rows, single,
                per_call(lambda: b.inplace_predict(rows), reps, min_time))

    import xgboost as xgb

    for fmt in ("json", "ubj"):
        load = []
        for _ in range(max(reps, 3)):
            start = time.perf_counter()
            xgb.Booster(model_file=str(d / f"large.{fmt}"))
            load.append(time.perf_counter() - start)
        results[f"large_load_ms_{fmt}"] = statistics.median(load) * 1e3
        results[f"large_model_bytes_{fmt}"] = (d / f"large.{fmt}").stat().st_size
    results["large_trees"] = xgb.Booster(model_file=str(d / "large.json")).num_boosted_rounds() * LARGE_CLASSES
    print(f"time: xgboost_large load {results['large_load_ms_json']:.1f} ms (JSON), "
          f"{results['large_load_ms_ubj']:.1f} ms (UBJSON)", flush=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")


# ---------------------------------------------------------------------------
# contrib: the reference TreeSHAP contributions (issue 12) on the batch and one row
# ---------------------------------------------------------------------------

def contrib_cmd(args):
    """Time the references of research/contrib_reference.py on the batch rows and on one row:
    XGBoost's own pred_contribs (nthread=1; the DMatrix is built in the call, as XGBoost needs
    one for contributions) on the production model, and shap's TreeExplainer
    (tree_path_dependent, built once; shap_values single-threaded) on the production tree and
    forest. Each is first checked to sum to the model's raw output on the batch."""
    import shap
    import xgboost as xgb

    d = Path(args.dir)
    reps, min_time = args.reps, args.min_time
    X = read_features(d / "batch.csv", common.FEATURES)
    row = X[:1].copy()
    results = {"batch_rows": len(X), "references": []}

    def add(model, reference, fn, raw):
        got = np.asarray(fn(X), dtype=np.float64)
        got = got.reshape(len(X), -1, len(common.FEATURES) + 1) if got.ndim == 2 else got
        err = float(np.max(np.abs(got.sum(axis=-1) - raw)))
        if err > 1e-4:
            raise SystemExit(f"contrib: {model}: {reference} does not sum to the raw output ({err:g})")
        single = per_call(lambda: fn(row), reps, min_time)
        batch = per_call(lambda: fn(X), reps, min_time) / len(X)
        results["references"].append({"model": model, "reference": reference, "threads": 1,
                                      "single_ns": single * 1e9, "batch_ns_per_row": batch * 1e9,
                                      "sum_error": err})
        print(f"contrib: {model:14s} {reference:60s} single {single * 1e9:12.0f} ns, "
              f"batch {batch * 1e9:10.1f} ns/row", flush=True)

    for kind in ("decision_tree", "random_forest"):
        m = sklearn_model(kind, n_jobs=1)
        expl = shap.TreeExplainer(m, feature_perturbation="tree_path_dependent")

        def shap_fn(A, expl=expl):
            v = np.asarray(expl.shap_values(A, check_additivity=False))  # (rows, features, classes)
            ev = np.broadcast_to(np.asarray(expl.expected_value), (len(A), 1, v.shape[2]))
            return np.concatenate([v, ev], axis=1).transpose(0, 2, 1)

        add(kind, f"shap {shap.__version__} TreeExplainer(tree_path_dependent).shap_values", shap_fn,
            m.predict_proba(X))
    b = xgb_booster(common.REGISTRY / "xgboost.json", 1)
    add("xgboost", f"XGBoost {xgb.__version__} Booster.predict(DMatrix, pred_contribs=True)",
        lambda A: b.predict(xgb.DMatrix(A, nthread=1), pred_contribs=True),
        b.predict(xgb.DMatrix(X, nthread=1), output_margin=True))
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")


# ---------------------------------------------------------------------------
# cli and score: scoring the big CSV, classify's binary against pandas + the library
# ---------------------------------------------------------------------------

def score(args):
    """One timed run: read the CSV with pandas, predict, take each row's class. Prints JSON."""
    import pandas as pd

    if args.kind == "xgboost":
        b = xgb_booster(common.REGISTRY / "xgboost.json", cores())
        predict = b.inplace_predict
    else:
        # Every core for the forest (classify predict uses every core too); a tree has no n_jobs.
        predict = sklearn_model(args.kind, n_jobs=-1).predict_proba
    start = time.perf_counter()
    X = pd.read_csv(args.csv)[common.FEATURES].to_numpy(dtype=np.float64)
    classes = np.asarray(predict(X)).argmax(axis=1)
    seconds = time.perf_counter() - start
    print(json.dumps({"rows": len(classes), "seconds": seconds}))


def run_child(cmd, stdout):
    """Run cmd; return (wall seconds, peak RSS in MiB, its stdout or None)."""
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE, text=True)
    out = p.stdout.read() if stdout == subprocess.PIPE else None
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise SystemExit(f"cli: {' '.join(cmd)} exited with {p.returncode}:\n{err}")
    return wall, usage.ru_maxrss / 1024, out


def cli(args):
    d = Path(args.dir)
    big = d / "big.csv"
    rows = sum(1 for _ in open(big)) - 1
    results = {"rows": rows, "csv_bytes": big.stat().st_size, "cores": cores(), "runs": []}
    for kind in KINDS:
        for tool in ("classify", "python"):
            walls, secs, rss = [], [], []
            for _ in range(args.reps):
                if tool == "classify":
                    with open(os.devnull, "w") as null:
                        wall, mib, _ = run_child([args.classify, "predict", "-model", kind,
                                                  "-progress", "never", str(big)], null)
                    inner = wall
                else:
                    wall, mib, out = run_child([sys.executable, __file__, "score", "--kind", kind,
                                                "--csv", str(big)], subprocess.PIPE)
                    got = json.loads(out)
                    if got["rows"] != rows:
                        raise SystemExit(f"cli: python scored {got['rows']} rows of {rows}")
                    inner = got["seconds"]
                walls.append(wall)
                secs.append(inner)
                rss.append(mib)
            run = {"model": kind, "tool": tool, "seconds": statistics.median(secs),
                   "process_seconds": statistics.median(walls), "peak_rss_mib": max(rss)}
            run["rows_per_s"] = rows / run["seconds"]
            results["runs"].append(run)
            print(f"cli: {kind:14s} {tool:9s} {run['rows_per_s'] / 1e6:6.2f} M rows/s, "
                  f"peak RSS {run['peak_rss_mib']:.0f} MiB", flush=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("--out", required=True)
    g.add_argument("--batch", type=int, default=4096)
    g.add_argument("--csv-rows", type=int, default=1_000_000)
    g.add_argument("--large-rounds", type=int, default=400)
    g.add_argument("--cache", default="", help="directory keeping the fitted large model (empty: none)")
    c = sub.add_parser("check")
    c.add_argument("--dir", required=True)
    c.add_argument("--classify", required=True)
    t = sub.add_parser("time")
    t.add_argument("--dir", required=True)
    t.add_argument("--reps", type=int, default=5)
    t.add_argument("--min-time", type=float, default=0.2, help="seconds per repetition")
    t.add_argument("--out", required=True)
    co = sub.add_parser("contrib")
    co.add_argument("--dir", required=True)
    co.add_argument("--reps", type=int, default=5)
    co.add_argument("--min-time", type=float, default=0.2, help="seconds per repetition")
    co.add_argument("--out", required=True)
    cl = sub.add_parser("cli")
    cl.add_argument("--dir", required=True)
    cl.add_argument("--classify", required=True)
    cl.add_argument("--reps", type=int, default=3)
    cl.add_argument("--out", required=True)
    s = sub.add_parser("score")
    s.add_argument("--kind", required=True, choices=KINDS)
    s.add_argument("--csv", required=True)
    args = p.parse_args()
    {"gen": gen, "check": check, "time": time_cmd, "contrib": contrib_cmd, "cli": cli, "score": score}[args.cmd](args)


if __name__ == "__main__":
    main()
