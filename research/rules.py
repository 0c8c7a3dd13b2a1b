"""Heuristic rules for Iris: derivation from data, the classify/rules v1 document, and the
reference evaluator (float64 comparisons, first matching rule wins).

The EDA notebook (research/eda/EDA.ipynb) calls derive() to show how the thresholds come from
the data; research/train.py calls the same function on all 150 rows to write the production
artifact, so `make research` regenerates it without running the notebook.
"""
from __future__ import annotations

import operator

import numpy as np

import common

OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}

SETOSA_FEATURE = "petal_length"
SPLIT_FEATURES = ("petal_width", "petal_length")  # versicolor when both are below their cuts


def _clean(v):
    """Midpoints of 1-decimal measurements, rounded away from float noise (1.65, not 1.6499...)."""
    return float(round(float(v), 10))


def candidate_cuts(values):
    """Midpoints between consecutive distinct values, ascending."""
    u = np.unique(np.asarray(values, dtype=np.float64))
    return [_clean(m) for m in (u[:-1] + u[1:]) / 2.0]


def derive(X, y):
    """Derive the heuristic's thresholds from training data.

    Step 1: a petal_length cut for setosa, the midpoint of the gap between the longest setosa
    petal and the shortest non-setosa petal (if the classes overlap, the cut with the fewest
    errors is used instead).
    Step 2: on the rows not caught by step 1, "versicolor if petal_width < w and
    petal_length < l, else virginica", with (w, l) chosen among the midpoints of consecutive
    distinct training values (or no cut) to maximise training accuracy; ties go to the
    smallest w, then the smallest l.

    Returns a dict with the thresholds and the derivation's bookkeeping.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    fi = {f: i for i, f in enumerate(common.FEATURES)}
    setosa = common.CLASSES.index("setosa")
    versicolor = common.CLASSES.index("versicolor")
    virginica = common.CLASSES.index("virginica")

    pl = X[:, fi[SETOSA_FEATURE]]
    is_setosa = y == setosa
    max_setosa, min_other = float(pl[is_setosa].max()), float(pl[~is_setosa].min())
    if max_setosa < min_other:
        t_setosa = _clean((max_setosa + min_other) / 2.0)
        setosa_errors = 0
    else:  # overlap: fewest errors
        best = None
        for t in candidate_cuts(pl):
            errors = int(((pl < t) != is_setosa).sum())
            if best is None or errors < best[0]:
                best = (errors, t)
        setosa_errors, t_setosa = best

    rest = pl >= t_setosa
    w_vals = X[rest, fi["petal_width"]]
    l_vals = X[rest, fi["petal_length"]]
    y_rest = y[rest]
    best = None
    for w in candidate_cuts(w_vals) + [float("inf")]:
        for l in candidate_cuts(l_vals) + [float("inf")]:
            pred = np.where((w_vals < w) & (l_vals < l), versicolor, virginica)
            correct = int((pred == y_rest).sum())
            if best is None or correct > best[0]:
                best = (correct, w, l)
    correct, t_w, t_l = best
    return {
        "setosa_petal_length": t_setosa,
        "setosa_gap": [max_setosa, min_other],
        "setosa_errors": setosa_errors,
        "versicolor_petal_width": t_w,
        "versicolor_petal_length": t_l,
        "stage2_correct": correct,
        "stage2_rows": int(rest.sum()),
    }


def build_rules(thresholds, source="research/eda/EDA.ipynb"):
    """The classify/rules v1 document for derived thresholds."""
    when = []
    if thresholds["versicolor_petal_width"] != float("inf"):
        when.append({"feature": "petal_width", "op": "<", "value": thresholds["versicolor_petal_width"]})
    if thresholds["versicolor_petal_length"] != float("inf"):
        when.append({"feature": "petal_length", "op": "<", "value": thresholds["versicolor_petal_length"]})
    rules = [
        {"name": "short-petals",
         "when": [{"feature": SETOSA_FEATURE, "op": "<", "value": thresholds["setosa_petal_length"]}],
         "then": "setosa"},
    ]
    if when:
        rules.append({"name": "narrow-short-petals", "when": when, "then": "versicolor"})
    return {
        "format": "classify/rules",
        "format_version": 1,
        "features": list(common.FEATURES),
        "classes": list(common.CLASSES),
        "rules": rules,
        "default": "virginica",
        "source": source,
    }


def evaluate_one(doc, x):
    """Reference evaluator: (label, one-hot probabilities) for one row, float64 comparisons."""
    fi = {f: i for i, f in enumerate(doc["features"])}
    label = doc["default"]
    for rule in doc["rules"]:
        if all(OPS[c["op"]](float(x[fi[c["feature"]]]), float(c["value"])) for c in rule["when"]):
            label = rule["then"]
            break
    proba = [1.0 if c == label else 0.0 for c in doc["classes"]]
    return label, proba


def predict(doc, X):
    """Class indices for rows of X."""
    classes = doc["classes"]
    return np.array([classes.index(evaluate_one(doc, x)[0]) for x in np.asarray(X, dtype=np.float64)])


class HeuristicClassifier:
    """sklearn-style wrapper so the heuristic runs through the same CV code as the models."""

    def fit(self, X, y):
        self.thresholds_ = derive(X, y)
        self.rules_ = build_rules(self.thresholds_)
        return self

    def predict(self, X):
        return predict(self.rules_, X)
