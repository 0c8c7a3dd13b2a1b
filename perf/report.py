"""Turn one run of perf/compare.sh into Markdown: the machine, the command, and a table per section.

    python perf/report.py --dir DIR --command "make perf-compare" --seconds N > report.md

DIR holds what compare.sh gathered: ref.json (perf/reference.py time), contrib.json
(perf/reference.py contrib), cli.json (perf/reference.py cli), go-bench.txt (go test -bench output
of ./perf/), go-contrib-bench.txt (go test -bench Contributions of the root package), go-version.txt,
loadavg-start.txt and loadavg-end.txt.
Every figure printed comes from those files; nothing is typed in by hand.
"""
from __future__ import annotations

import argparse
import json
import platform
import re
import statistics
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

# Targets from issue 14.
BATCH_RATIO_TARGET = 0.5
SINGLE_TARGET_NS = {"xgboost": 1500, "decision_tree": 15}
FOREST_NS_PER_TREE = 5
CLI_TARGET_ROWS_PER_S = {"xgboost": 2e6, "decision_tree": 5e6}
LOAD_RATIO_TARGET = 2

BENCH_LINE = re.compile(r"^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$")


def go_bench(path):
    """{benchmark name: {unit: median value}} from go test -bench output (-count repeats)."""
    samples = defaultdict(lambda: defaultdict(list))
    for line in Path(path).read_text().splitlines():
        m = BENCH_LINE.match(line)
        if not m:
            continue
        fields = m.group(2).split()
        for value, unit in zip(fields[0::2], fields[1::2]):
            samples[m.group(1)][unit].append(float(value))
    return {name: {unit: statistics.median(v) for unit, v in units.items()} for name, units in samples.items()}


def num(v, digits=0):
    if v is None:
        return "–"
    return f"{v:,.{digits}f}"


def ns(v):
    return num(v, 1 if v is not None and v < 100 else 0)


def yes(ok):
    return "yes" if ok else "**no**"


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def mem_gib():
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return None


def loadavg(path):
    return ", ".join(path.read_text().split()[:3])


def versions():
    import numpy
    import pandas
    import sklearn
    import shap
    import xgboost

    return (f"Python {platform.python_version()}, numpy {numpy.__version__}, pandas {pandas.__version__}, "
            f"scikit-learn {sklearn.__version__}, xgboost {xgboost.__version__}, shap {shap.__version__}")


def report(d, command, seconds, quick):
    ref = json.loads((d / "ref.json").read_text())
    cli = json.loads((d / "cli.json").read_text())
    go = go_bench(d / "go-bench.txt")
    out = []
    w = out.append

    w("# Performance: classify against the reference libraries\n")
    w("Written by `perf/compare.sh` (`make perf-compare WRITE=1`); do not edit the figures by hand, rerun "
      "the script. It generates the rows and a large XGBoost model in a temporary directory, checks that "
      "the reference models are the production models (scikit-learn's estimators are refitted as "
      "research/train.py fits them, and must export to the registry's files byte for byte and give "
      "classify's probabilities on the batch), then times both sides on the same rows in one run. "
      "Medians of several repetitions. See issue 14 for the targets, and "
      "[perf/PROFILES.md](perf/PROFILES.md) for where the time goes where they are not met.\n")
    if quick:
        w("**QUICK run** (fewer CSV rows, a smaller large model, fewer repetitions): a smoke test, "
          "not figures to quote.\n")
    w("## Machine and command\n")
    w(f"- CPU: {cpu_model()}, {ref['cores']} cores available"
      + (f", {mem_gib():.0f} GiB memory" if mem_gib() else ""))
    w(f"- OS: {platform.system()} {platform.release()}")
    w(f"- Go: {(d / 'go-version.txt').read_text().strip()}")
    w(f"- Python side: {versions()}")
    w(f"- Command: `{command}` (took {seconds:.0f} s); "
      f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}")
    w(f"- Load average (1, 5, 15 min) at the start: {loadavg(d / 'loadavg-start.txt')}, "
      f"at the end: {loadavg(d / 'loadavg-end.txt')}. The machine is shared: "
      "a load above the core count means other work competed for the CPU, so compare ratios "
      "within one run rather than figures across runs.\n")

    # -- per row, batch and single --------------------------------------------------------
    batch_methods = sorted({name.split("/")[2] for name in go if name.startswith("BenchmarkCompare/")} - {"single"})
    w(f"## Per row: {ref['batch_rows']:,}-row batch and single row\n")
    w("Reference: the library's own predictor called from Python on a NumPy array of the batch "
      "(XGBoost `Booster.inplace_predict` on models/xgboost.json with `nthread` set; scikit-learn "
      "`predict_proba` with `n_jobs=1`), and on a one-row array for the single-row figure. classify: "
      "`go test -bench Compare ./perf/` on the same rows: `Model.Predict` one row per call "
      "(single) and `Model.PredictBatch` on the whole batch, one goroutine. The ratio is "
      "classify's batch time per row over the reference's (below 1: classify is faster); the "
      f"target is at most {BATCH_RATIO_TARGET} against the one-thread reference.\n")
    cols = " | ".join(f"classify {m} ns/row" for m in batch_methods)
    w(f"| model | reference | threads | reference single row ns | reference batch ns/row | "
      f"classify single row ns | {cols} | ratio classify/reference | ≤ {BATCH_RATIO_TARGET}? |")
    w("|---|---|---|---:|---:|---:|" + "---:|" * len(batch_methods) + "---:|---|")
    for p in ref["predictors"]:
        name = p["model"]
        single = go.get(f"BenchmarkCompare/{name}/single", {}).get("ns/op")
        batch = [go.get(f"BenchmarkCompare/{name}/{m}", {}).get("ns/row") for m in batch_methods]
        best = min((b for b in batch if b is not None), default=None)
        ratio = best / p["batch_ns_per_row"] if best is not None else None
        target = yes(ratio <= BATCH_RATIO_TARGET) if p["threads"] == 1 and ratio is not None else "–"
        rows = f" ({p['batch_rows']} rows)" if p["batch_rows"] != ref["batch_rows"] else ""
        w(f"| {name}{rows} | {p['reference']} | {p['threads']} | {ns(p['single_ns'])} | "
          f"{ns(p['batch_ns_per_row'])} | {ns(single)} | " + " | ".join(ns(b) for b in batch)
          + f" | {num(ratio, 2)} | {target} |")
    w("")

    w("### Single-row targets\n")
    w("| model | classify single row ns | target | met? |")
    w("|---|---:|---|---|")
    for name in ("xgboost", "decision_tree", "random_forest"):
        single = go.get(f"BenchmarkCompare/{name}/single", {}).get("ns/op")
        if single is None:
            continue
        if name == "random_forest":
            trees = ref["forest_trees"]
            w(f"| {name} ({trees} trees) | {ns(single)} ({single / trees:.1f} per tree) | "
              f"< {FOREST_NS_PER_TREE} ns per tree | {yes(single / trees < FOREST_NS_PER_TREE)} |")
        else:
            w(f"| {name} | {ns(single)} | < {SINGLE_TARGET_NS[name]:,} ns | {yes(single < SINGLE_TARGET_NS[name])} |")
    w("")

    # -- contributions ---------------------------------------------------------------------------
    contrib = json.loads((d / "contrib.json").read_text())
    goc = go_bench(d / "go-contrib-bench.txt") if (d / "go-contrib-bench.txt").exists() else {}
    n = contrib["batch_rows"]
    w(f"## Contributions (TreeSHAP, tree_path_dependent): {n:,}-row batch and single row\n")
    w("Reference: what research/contrib_reference.py takes as the reference, called from Python on "
      "the same batch, one thread: XGBoost `Booster.predict(DMatrix(rows), pred_contribs=True)` "
      "(`nthread=1`, the DMatrix built in each call: XGBoost computes contributions only from one) on "
      "models/xgboost.json, and shap's `TreeExplainer(model, feature_perturbation=\"tree_path_dependent\")` "
      "(built once) `.shap_values(rows)` on the production tree and forest; the single-row figure is "
      "one call on a one-row array. classify: `go test -bench Contributions .` (root package), "
      f"`Contributor.Contributions` one row per call (`BenchmarkContributions/<model>/row`) and "
      f"`ContributionsBatch` on {n:,} rows (`BenchmarkContributions/<model>/batch={n}`), one goroutine. "
      "Ratio: classify's batch time per row over the reference's (below 1: classify is faster).\n")
    if not goc:
        w("**classify's BenchmarkContributions did not run** (not in this tree yet): its columns are "
          "empty.\n")
    w("| model | reference | reference single row ns | reference batch ns/row | classify single row ns | "
      "classify batch ns/row | ratio classify/reference |")
    w("|---|---|---:|---:|---:|---:|---:|")
    for r in contrib["references"]:
        name = r["model"]
        single = goc.get(f"BenchmarkContributions/{name}/row", {}).get("ns/op")
        b = goc.get(f"BenchmarkContributions/{name}/batch={n}", {})
        batch = b.get("ns/row", b["ns/op"] / n if "ns/op" in b else None)
        ratio = batch / r["batch_ns_per_row"] if batch is not None else None
        w(f"| {name} | {r['reference']} | {ns(r['single_ns'])} | {ns(r['batch_ns_per_row'])} | {ns(single)} | "
          f"{ns(batch)} | {num(ratio, 2)} |")
    w("")

    # -- CLI ---------------------------------------------------------------------------------
    w(f"## Scoring a {cli['rows']:,}-row CSV file ({cli['csv_bytes'] / 1e6:.0f} MB), {cli['cores']} cores\n")
    w("classify: `classify predict -model KIND -progress never FILE > /dev/null` (built once with "
      "`go build`; every core by default), timed as a whole process: reading and parsing the file, "
      "scoring, and writing each row back with its prediction and probabilities. Python: "
      "`pandas.read_csv` then the library's predictor on every core (XGBoost `inplace_predict` with "
      "`nthread` = cores; the forest's `predict_proba` with `n_jobs=-1`; a tree has no threads) and "
      "the argmax, timed inside the process (interpreter start, imports and model loading excluded; "
      "the whole process is the next column), writing nothing. Peak RSS of the process "
      "(`wait4`'s ru_maxrss).\n")
    w("| model | program | seconds | rows/s | whole process s | peak RSS MiB | target |")
    w("|---|---|---:|---:|---:|---:|---|")
    for r in cli["runs"]:
        target = "–"
        if r["tool"] == "classify" and r["model"] in CLI_TARGET_ROWS_PER_S:
            t = CLI_TARGET_ROWS_PER_S[r["model"]]
            target = f"≥ {t / 1e6:.0f} M rows/s: {yes(r['rows_per_s'] >= t)}"
        program = "classify predict" if r["tool"] == "classify" else "pandas + " + (
            "XGBoost" if r["model"] == "xgboost" else "scikit-learn")
        w(f"| {r['model']} | {program} | {r['seconds']:.2f} | {num(r['rows_per_s'])} | "
          f"{r['process_seconds']:.2f} | {r['peak_rss_mib']:.0f} | {target} |")
    w("")

    # -- large model ---------------------------------------------------------------------------
    w(f"## A large XGBoost model: {ref['large_trees']:,} trees of depth 8, 50 features, 5 classes "
      f"({ref['large_model_bytes_json'] / 1e6:.1f} MB JSON, {ref['large_model_bytes_ubj'] / 1e6:.1f} MB UBJSON)\n")
    w("Generated by `perf/reference.py gen` (seeded `make_classification` data, `hist`), not "
      "committed. Load: `xgboost.Booster(model_file=...)` against `classify.New(classify.XGBoost, "
      "path)` (`BenchmarkLoad`), both reading the file, classify with every check its loader makes; "
      "the same model saved by XGBoost as JSON and as UBJSON. Per-row figures are in the first "
      "table (xgboost_large).\n")
    w("| load | XGBoost ms | classify ms | ratio classify/XGBoost | classify allocated MB | target |")
    w("|---|---:|---:|---:|---:|---|")
    for form, bench in (("json", "BenchmarkLoad/xgboost_large"), ("ubj", "BenchmarkLoad/xgboost_large_ubj")):
        g = go.get(bench, {})
        ms = g["ns/op"] / 1e6 if "ns/op" in g else None
        ratio = ms / ref[f"large_load_ms_{form}"] if ms is not None else None
        alloc = g["B/op"] / 1e6 if "B/op" in g else None
        w(f"| {form.upper().replace('UBJ', 'UBJSON')} | {ref[f'large_load_ms_{form}']:.1f} | {num(ms, 1)} | "
          f"{num(ratio, 1)} | {num(alloc)} | ≤ {LOAD_RATIO_TARGET}x: {yes(ratio is not None and ratio <= LOAD_RATIO_TARGET)} |")
    w("")
    return "\n".join(out)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--command", required=True)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    print(report(Path(args.dir), args.command, args.seconds, args.quick))


if __name__ == "__main__":
    main()
