"""The two boosting experiments of issue 11 (LightGBM, HistGradientBoosting): the same protocol
as the XGBoost experiment (LOOCV, repeated stratified k-fold, a small stated grid confirmed on
fresh folds, derived features), and a decision against the production models, from the numbers.

Neither is in the production registry (models/) unless its numbers say it should be: see
`decision()`. research/experiments/<name>/run.py calls `run()`.
"""
from __future__ import annotations

import json
import time

import common
import evaluation
import explib
import production


def production_metrics():
    """LOOCV and k-fold of the four production models, from their results JSON."""
    out = {}
    for n in common.NAMES:
        r = json.loads((common.RESULTS / f"{n}.json").read_text())
        m = {x["method"]: x for x in r["metrics"]}
        out[n] = {"loocv": m[common.LOOCV_METHOD]["value"], "loocv_errors": m[common.LOOCV_METHOD]["n_errors"],
                  "kfold_mean": m[common.KFOLD_METHOD]["value"], "kfold_std": m[common.KFOLD_METHOD]["std"]}
    return out


def decision(kf, loo, others):
    """Whether the numbers justify promoting this model, and why (text)."""
    best = max(others, key=lambda n: others[n]["kfold_mean"])
    gap = kf["value"] - others[best]["kfold_mean"]
    std = max(kf["std"], others[best]["kfold_std"])
    promote = gap > std  # only an advantage larger than the fold-to-fold noise
    text = (f"Against the best production model by k-fold, `{best}` ({explib.pct(others[best]['kfold_mean'])} ± "
            f"{100 * others[best]['kfold_std']:.1f} pp), this model is {100 * gap:+.1f} pp "
            f"({explib.pm(kf)}; LOOCV {loo['n_errors']} errors against {others[best]['loocv_errors']}). ")
    if promote:
        text += "That is larger than one fold std: the numbers justify promoting it."
    else:
        text += ("That is not an advantage larger than the fold-to-fold noise (one fold std is "
                 f"{100 * std:.1f} pp; one row is 0.7 pp), so it is **not promoted**: the registry (models/) keeps the "
                 "four production models, and the production default stays the heuristic. The kind `" + "{kind}" +
                 "` is still for users who bring their own models: classify-export writes it, with the library's "
                 "answers on Iris and non-Iris data in `testdata/boosting/` for classify's loader to match.")
    return promote, text


def run(name, estimator, grid, prod_params, importance, version_key, question, extra_md=""):
    """Evaluate production.make(name); write results/<name>.json and the figure; return results."""
    started = time.time()
    plt = common.setup_matplotlib()
    X, y, _ = common.load_iris_csv()
    factory = lambda: production.make(name)  # noqa: E731
    loo, kf = explib.standard_metrics(factory, X, y)
    resub = evaluation.resubstitution(factory, X, y)
    search = explib.grid_search(lambda **p: production.make(name, **p), grid, X, y, repeats=3)
    explib.confirm_search(search, lambda **p: production.make(name, **p), prod_params, X, y, 0.01)
    derived = explib.derived_comparison(factory, X, y, loo, kf)
    model = factory().fit(X, y)
    imp = importance(model)

    figs = explib.figures_dir(name)
    ncols = 3 if imp is not None else 2
    fig, axes = plt.subplots(1, ncols, figsize=(5 * ncols, 4.2))
    keys = list(grid)
    for a in grid[keys[1]]:
        for b in grid[keys[2]]:
            rows = [r for r in search["results"] if r["params"][keys[1]] == a and r["params"][keys[2]] == b]
            axes[0].plot([str(r["params"][keys[0]]) for r in rows], [r["mean"] for r in rows], marker="o",
                         label=f"{keys[1]}={a}, {keys[2]}={b}")
    axes[0].set_xlabel(keys[0])
    axes[0].set_ylabel("accuracy")
    axes[0].set_title(f"Search ({search['method']})")
    axes[0].legend(fontsize=7)
    if imp is not None:
        axes[1].barh(common.FEATURES, [imp[f] for f in common.FEATURES])
        axes[1].set_title("Total gain per feature (fitted on all rows)")
    explib.plot_confusion(plt, axes[-1], evaluation.confusion(y, loo["predictions"]), "LOOCV confusion matrix")
    png = figs / f"{name}.png"
    common.savefig(fig, png)
    plt.close(fig)

    others = production_metrics()
    promote, why = decision(kf, loo, others)
    results = {
        "experiment": name,
        "question": question,
        "data": explib.data_info(),
        "model": {"estimator": estimator, "hyperparameters": production.HYPERPARAMETERS[name],
                  "features": common.FEATURES},
        "metrics": [loo, kf, resub],
        "loocv_confusion": evaluation.confusion(y, loo["predictions"]),
        "search": search,
        "derived_features": derived,
        "fitted_on_all_rows": {"total_gain": imp},
        "production_comparison": {"models": others, "promote": promote},
        "figures": [common.rel(png)],
    }
    explib.finish(name, results, started)
    import importlib.metadata as md

    results["versions"][version_key] = md.version(version_key)
    common.write_json(common.RESULTS / f"{name}.json", results)
    write_md(name, results, why, extra_md)
    return results


def write_md(name, r, why, extra_md):
    loo, kf, resub = r["metrics"]
    hp = r["model"]["hyperparameters"]
    s = r["search"]
    keys = list(s["space"])
    grid_rows = [[*(x["params"][k] for k in keys), f"{explib.pct(x['mean'])} ± {100 * x['std']:.1f} pp"]
                 for x in s["results"]]
    others = r["production_comparison"]["models"]
    cmp_rows = [[f"`{n}`", f"{explib.pct(o['loocv'])} ({o['loocv_errors']} errors)",
                 f"{explib.pct(o['kfold_mean'])} ± {100 * o['kfold_std']:.1f} pp"] for n, o in others.items()]
    cmp_rows.append([f"**`{name}`**", f"{explib.pct(loo['value'])} ({loo['n_errors']} errors)", explib.pm(kf)])
    imp = r["fitted_on_all_rows"]["total_gain"]
    title = {"lightgbm": "LightGBM", "hist_gradient_boosting": "HistGradientBoosting"}[name]
    text = f"""# Experiment: {title}

*Generated by `research/experiments/{name}/run.py` (through `research/boosting_experiment.py`) from
`research/results/{name}.json`; do not edit.*

## Question

{r["question"]}

## Method

- Estimator: `{r["model"]["estimator"]}` with the hyperparameters `{hp}` (from
  `research/production.py`), four raw features, classes encoded 0 = setosa, 1 = versicolor,
  2 = virginica. Seeded and single-threaded, so reruns are byte-identical.
- Validation: leave-one-out CV (150 fits) and {common.KFOLD_METHOD}, seed {common.SEED}
  (mean and population std over {kf["n_folds"]} folds), exactly as for the four production
  models. Resubstitution accuracy for reference.
- Hyperparameter search: {explib.search_method_md(s)}
- Derived features: the same configuration on the four raw plus four derived features.
{extra_md}
## Results

{explib.md_table(["method", "accuracy"], [
    ["LOOCV", f"{explib.pct(loo['value'])} ({loo['n_errors']} of {loo['n']} wrong)"],
    [common.KFOLD_METHOD, explib.pm(kf)],
    ["resubstitution (all 150 rows, optimistic)", explib.pct(resub["value"])],
])}

LOOCV misclassified rows (0-based): {", ".join(str(i) for i in loo["misclassified_rows"])}.

Search ({s["method"]}):

{explib.md_table([*keys, "accuracy"], grid_rows)}

Derived features:

{explib.derived_md(r["derived_features"])}
{"" if imp is None else chr(10) + "Total gain per feature, fitted on all 150 rows: " + ", ".join(f"{k} {v:.1f}" for k, v in imp.items()) + "." + chr(10)}
Against the production models (their results JSON, same folds and seed):

{explib.md_table(["model", "LOOCV", "k-fold (mean ± std)"], cmp_rows)}

![search, gain, confusion matrix](figures/{name}.png)

## Decision

- {explib.search_decision(s, "the library defaults stay.")}
- {explib.derived_verdict(r["derived_features"])}
- {why.replace("{kind}", name)}
"""
    explib.write_experiment_md(name, text)
