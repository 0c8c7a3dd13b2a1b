"""Validation used by every experiment: leave-one-out CV and repeated stratified k-fold.

Both loop over the splits themselves, fitting a fresh estimator from a factory per fold, so
the heuristic (not a scikit-learn estimator) goes through the same code.
"""
from __future__ import annotations

import os

import numpy as np
from joblib import Parallel, delayed
from sklearn.model_selection import LeaveOneOut, RepeatedStratifiedKFold

import common

# Folds may run in parallel processes (each estimator stays single-threaded and seeded, so the
# results do not depend on this). In-process by default: for cheap fits the process start-up
# costs more than it saves; the forest experiment sets JOBS = 2. RESEARCH_JOBS overrides.
JOBS = int(os.environ.get("RESEARCH_JOBS", "1"))


def _fit_predict(factory, X, y, train, test):
    return factory().fit(X[train], y[train]).predict(X[test])


def _map_folds(factory, X, y, splits):
    if JOBS == 1:
        return [_fit_predict(factory, X, y, tr, te) for tr, te in splits]
    return Parallel(n_jobs=JOBS)(delayed(_fit_predict)(factory, X, y, tr, te) for tr, te in splits)


def loocv(factory, X, y):
    """Leave-one-out: returns dict(value=accuracy, n_errors, errors=[row indices], predictions)."""
    pred = np.empty_like(y)
    splits = list(LeaveOneOut().split(X))
    for (_, test), p in zip(splits, _map_folds(factory, X, y, splits)):
        pred[test] = p
    wrong = np.flatnonzero(pred != y)
    return {
        "name": "accuracy",
        "method": common.LOOCV_METHOD,
        "value": float((pred == y).mean()),
        "n_errors": int(wrong.size),
        "n": int(y.size),
        "misclassified_rows": [int(i) for i in wrong],
        "predictions": [int(p) for p in pred],
    }


def kfold_splits(y, k=common.KFOLD_K, repeats=common.KFOLD_REPEATS, seed=common.SEED):
    rskf = RepeatedStratifiedKFold(n_splits=k, n_repeats=repeats, random_state=seed)
    return list(rskf.split(np.zeros((y.size, 1)), y))


def kfold_scores(factory, X, y, splits):
    preds = _map_folds(factory, X, y, splits)
    return [float((p == y[te]).mean()) for (_, te), p in zip(splits, preds)]


def kfold(factory, X, y, k=common.KFOLD_K, repeats=common.KFOLD_REPEATS, seed=common.SEED):
    """Repeated stratified k-fold: mean and std (population, over all k*repeats folds)."""
    scores = kfold_scores(factory, X, y, kfold_splits(y, k, repeats, seed))
    s = common.summarize_scores(scores)
    return {
        "name": "accuracy",
        "method": f"repeated_stratified_kfold(k={k},repeats={repeats})",
        "value": s["mean"],
        "std": s["std"],
        "n_folds": s["n_folds"],
        "seed": seed,
        "fold_scores": scores,
    }


def resubstitution(factory, X, y):
    model = factory().fit(X, y)
    return {"name": "accuracy", "method": "resubstitution", "value": float((model.predict(X) == y).mean()),
            "note": "training accuracy of the model fitted on all rows; optimistic, for reference only"}


def confusion(y, pred, n_classes=len(common.CLASSES)):
    m = np.zeros((n_classes, n_classes), dtype=int)
    for t, p in zip(y, pred):
        m[t, p] += 1
    return m.tolist()


def strip_bulky(metric):
    """Metric entry without per-row/per-fold arrays (for summaries and manifests)."""
    return {k: v for k, v in metric.items() if k not in ("predictions", "fold_scores", "misclassified_rows")}
