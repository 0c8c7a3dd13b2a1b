"""Production model definitions: the one place where production hyperparameters live.

research/train.py fits these on all 150 rows; the experiments evaluate exactly these
configurations (and alternatives, to justify the choices). Every estimator is seeded and
single-threaded so reruns are byte-identical.
"""
from __future__ import annotations

import common

DECISION_TREE = {"criterion": "gini", "max_depth": None, "min_samples_leaf": 1, "random_state": common.SEED}
RANDOM_FOREST = {"n_estimators": 100, "max_features": "sqrt", "min_samples_leaf": 1,
                 "bootstrap": True, "random_state": common.SEED, "n_jobs": 1}
XGBOOST = {"objective": "multi:softprob", "n_estimators": 100, "max_depth": 6, "learning_rate": 0.3,
           "tree_method": "exact", "random_state": common.SEED, "n_jobs": 1}

HYPERPARAMETERS = {
    "decision_tree": DECISION_TREE,
    "random_forest": RANDOM_FOREST,
    "xgboost": XGBOOST,
}


def make(name, **overrides):
    """A fresh unfitted estimator for a production model name, optionally with overrides."""
    if name == "heuristic":
        import rules

        return rules.HeuristicClassifier()
    params = dict(HYPERPARAMETERS[name], **overrides)
    if name == "decision_tree":
        from sklearn.tree import DecisionTreeClassifier

        return DecisionTreeClassifier(**params)
    if name == "random_forest":
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(**params)
    if name == "xgboost":
        from xgboost import XGBClassifier

        return XGBClassifier(**params)
    raise ValueError(f"unknown model {name}")
