"""Helpers shared by the experiment scripts (research/experiments/*/run.py)."""
from __future__ import annotations

import itertools
import sys
import time
from pathlib import Path

import numpy as np

import common
import evaluation


def pct(v, digits=1):
    return f"{100.0 * v:.{digits}f}%"


def pm(metric):
    """'95.3% ± 3.1 pp' for a k-fold metric, '95.3%' otherwise."""
    if "std" in metric:
        return f"{pct(metric['value'])} ± {100.0 * metric['std']:.1f} pp"
    return pct(metric["value"])


def md_table(headers, rows):
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def data_info():
    X, y, _ = common.load_iris_csv()
    return {"file": common.rel(common.DATA_CSV), "sha256": common.sha256_file(common.DATA_CSV),
            "rows": int(y.size), "features": common.FEATURES, "classes": common.CLASSES}


def standard_metrics(factory, X, y):
    """LOOCV and repeated stratified k-fold for one configuration."""
    return [evaluation.loocv(factory, X, y), evaluation.kfold(factory, X, y)]


def derived_comparison(factory, X, y, raw_loocv, raw_kfold):
    """Raw 4 features vs raw + derived features, same configuration and the same folds.

    raw_loocv / raw_kfold are the standard metrics of the same configuration on the raw
    features (computed on the same folds), reused to save time.
    """
    Xd = common.add_derived(X)
    splits = evaluation.kfold_splits(y)
    raw_k = raw_kfold["fold_scores"]
    der_k = evaluation.kfold_scores(factory, Xd, y, splits)
    raw_l = raw_loocv
    der_l = evaluation.loocv(factory, Xd, y)
    diff = np.asarray(der_k) - np.asarray(raw_k)
    return {
        "features_raw": common.FEATURES,
        "features_derived": common.DERIVED_FEATURES,
        "derived_definitions": {"petal_area": "petal_length * petal_width",
                                "sepal_area": "sepal_length * sepal_width",
                                "petal_ratio": "petal_length / petal_width",
                                "sepal_ratio": "sepal_length / sepal_width"},
        "raw": {"loocv": raw_l["value"], "loocv_errors": raw_l["n_errors"],
                "kfold_mean": float(np.mean(raw_k)), "kfold_std": float(np.std(raw_k))},
        "derived": {"loocv": der_l["value"], "loocv_errors": der_l["n_errors"],
                    "kfold_mean": float(np.mean(der_k)), "kfold_std": float(np.std(der_k))},
        "kfold_paired_difference": {"mean": float(diff.mean()), "std": float(diff.std()),
                                    "folds_derived_better": int((diff > 0).sum()),
                                    "folds_raw_better": int((diff < 0).sum()),
                                    "folds_equal": int((diff == 0).sum())},
        "method": common.KFOLD_METHOD + " on identical folds, and loocv",
    }


def grid_search(make, grid, X, y, k=5, repeats=3, seed=common.SEED):
    """Exhaustive search over `grid` (dict of lists) scored by repeated stratified k-fold.

    Small on purpose (2 cores). Every configuration sees the same folds. Returns all rows
    sorted as enumerated, plus the best (highest mean, first on ties).
    """
    splits = evaluation.kfold_splits(y, k, repeats, seed)
    keys = list(grid)
    rows = []
    for values in itertools.product(*(grid[k_] for k_ in keys)):
        params = dict(zip(keys, values))
        scores = evaluation.kfold_scores(lambda: make(**params), X, y, splits)
        rows.append({"params": params, "mean": float(np.mean(scores)), "std": float(np.std(scores))})
    best = max(rows, key=lambda r: r["mean"])  # max returns the first maximum
    return {"method": f"repeated_stratified_kfold(k={k},repeats={repeats})", "seed": seed,
            "space": grid, "results": rows, "best": best}


CONFIRM_SEED = 2026


def confirm_search(search, make, production_params, X, y, margin=0.01):
    """Second stage of the search. The best configuration is picked on the search folds, so its
    score there is biased upward (best of many). If it beats production there by more than
    `margin`, re-score both on fresh folds (different seed, 10 repeats) and adopt the best only
    if it still wins by more than `margin`. If it does not beat production on the search folds,
    there is nothing to confirm. Adds the outcome to `search` in place.
    """
    prod_row = next(r for r in search["results"] if r["params"] == production_params)
    best = search["best"]
    search["production_row"] = prod_row
    search["adopt_margin"] = margin
    search["best_minus_production_on_search_folds"] = best["mean"] - prod_row["mean"]
    search["confirmation"] = None
    search["justifies_change"] = False
    if best["params"] == production_params or search["best_minus_production_on_search_folds"] <= margin:
        return search
    splits = evaluation.kfold_splits(y, common.KFOLD_K, common.KFOLD_REPEATS, CONFIRM_SEED)
    confirm = {"method": f"repeated_stratified_kfold(k={common.KFOLD_K},repeats={common.KFOLD_REPEATS})",
               "seed": CONFIRM_SEED}
    for key, params in (("best", best["params"]), ("production", production_params)):
        scores = evaluation.kfold_scores(lambda: make(**params), X, y, splits)
        confirm[key] = {"params": params, "mean": float(np.mean(scores)), "std": float(np.std(scores))}
    confirm["best_minus_production"] = confirm["best"]["mean"] - confirm["production"]["mean"]
    search["confirmation"] = confirm
    search["justifies_change"] = bool(confirm["best_minus_production"] > margin)
    return search


def search_decision(s, keep_text):
    best, prod, c = s["best"], s["production_row"], s["confirmation"]
    head = (f"The search's best ({best['params']}, {pct(best['mean'])} ± {100 * best['std']:.1f} pp) is "
            f"{100 * s['best_minus_production_on_search_folds']:.1f} pp above the production setting "
            f"({prod['params']}, {pct(prod['mean'])}) on the search folds")
    if c is None:
        return head + (f", not more than the {100 * s['adopt_margin']:.0f} pp margin (1.5 rows of 150, well inside "
                       f"one fold std), so there is nothing to confirm: {keep_text}")
    head += (f"; on fresh folds ({c['method']}, seed {c['seed']}) it scores {pct(c['best']['mean'])} against "
             f"{pct(c['production']['mean'])}, a difference of {100 * c['best_minus_production']:+.1f} pp.")
    if s["justifies_change"]:
        return head + (f" That is more than the {100 * s['adopt_margin']:.0f} pp margin: "
                       "research/production.py should adopt it.")
    return head + (f" That is not more than the {100 * s['adopt_margin']:.0f} pp margin (1.5 rows of 150, well "
                   f"inside one fold std): {keep_text}")


def search_method_md(s):
    return (f"grid over `{s['space']}`, scored by {s['method']} (seed {s['seed']}; every configuration sees the "
            "same folds). The best of a grid is biased upward on the folds that picked it, so if it beats the "
            f"production configuration by more than {100 * s['adopt_margin']:.0f} pp there, both are re-scored on "
            f"fresh folds ({common.KFOLD_METHOD}, seed {CONFIRM_SEED}); production adopts the best only if it "
            f"still wins there by more than {100 * s['adopt_margin']:.0f} pp.")


def finish(name, results, started):
    path = common.RESULTS / f"{name}.json"
    results["versions"] = common.library_versions()
    common.write_json(path, results)
    print(f"wrote {common.rel(path)} ({time.time() - started:.1f}s)", file=sys.stderr)


def figures_dir(name):
    return common.RESEARCH / "experiments" / name / "figures"


def write_experiment_md(name, text):
    path = common.RESEARCH / "experiments" / name / "EXPERIMENT.md"
    common.write_text(path, text)
    print(f"wrote {common.rel(path)}", file=sys.stderr)


def plot_confusion(plt, ax, matrix, title):
    m = np.asarray(matrix)
    ax.imshow(m, cmap="Blues")
    ax.set_xticks(range(len(common.CLASSES)), common.CLASSES, rotation=30)
    ax.set_yticks(range(len(common.CLASSES)), common.CLASSES)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            ax.text(j, i, str(m[i, j]), ha="center", va="center",
                    color="white" if m[i, j] > m.max() / 2 else "black")


def derived_md(d):
    rows = [
        ["raw (4)", f"{pct(d['raw']['loocv'])} ({d['raw']['loocv_errors']} errors)",
         f"{pct(d['raw']['kfold_mean'])} ± {100 * d['raw']['kfold_std']:.1f} pp"],
        ["raw + derived (8)", f"{pct(d['derived']['loocv'])} ({d['derived']['loocv_errors']} errors)",
         f"{pct(d['derived']['kfold_mean'])} ± {100 * d['derived']['kfold_std']:.1f} pp"],
    ]
    p = d["kfold_paired_difference"]
    return (md_table(["features", "LOOCV", common.KFOLD_METHOD], rows) + "\n\n"
            f"Paired over the same {p['folds_derived_better'] + p['folds_raw_better'] + p['folds_equal']} folds, "
            f"derived minus raw = {100 * p['mean']:+.1f} pp (std {100 * p['std']:.1f} pp); derived better on "
            f"{p['folds_derived_better']} folds, raw better on {p['folds_raw_better']}, equal on {p['folds_equal']}.\n"
            "Derived features: " + ", ".join(f"`{k}` = {v}" for k, v in d["derived_definitions"].items()) + ".")


def derived_verdict(d, tolerance=0.01):
    """Text of the decision on derived features, from the numbers."""
    gain_l = d["derived"]["loocv"] - d["raw"]["loocv"]
    gain_k = d["kfold_paired_difference"]["mean"]
    if gain_l > tolerance and gain_k > tolerance:
        sd = d["kfold_paired_difference"]["std"]
        return (f"Derived features helped here (LOOCV {100 * gain_l:+.1f} pp, k-fold {100 * gain_k:+.1f} pp "
                f"against a paired per-fold std of {100 * sd:.1f} pp), but production keeps the four raw "
                "features: the serving contract takes the four measurements, and a gain of this size on "
                "150 rows does not justify a feature pipeline in every client.")
    return (f"Derived features do not earn their keep (LOOCV {100 * gain_l:+.1f} pp, k-fold "
            f"{100 * gain_k:+.1f} pp; not a gain above {100 * tolerance:.0f} pp on both): production keeps the four "
            "raw features, which is also what the serving contract takes.")
