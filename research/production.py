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

# Evaluated in research/experiments/ (issue 11) but not in the production registry: see their
# EXPERIMENT.md for why. LightGBM: library defaults, seeded, single-threaded and deterministic.
LIGHTGBM = {"objective": "multiclass", "n_estimators": 100, "learning_rate": 0.1, "num_leaves": 31,
            "min_child_samples": 20, "random_state": common.SEED, "n_jobs": 1, "deterministic": True,
            "force_col_wise": True, "verbose": -1}
HIST_GRADIENT_BOOSTING = {"max_iter": 100, "learning_rate": 0.1, "max_leaf_nodes": 31, "min_samples_leaf": 20,
                          "early_stopping": False, "random_state": common.SEED}

HYPERPARAMETERS = {
    "decision_tree": DECISION_TREE,
    "random_forest": RANDOM_FOREST,
    "xgboost": XGBOOST,
    "lightgbm": LIGHTGBM,
    "hist_gradient_boosting": HIST_GRADIENT_BOOSTING,
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
    if name == "lightgbm":
        from lightgbm import LGBMClassifier

        return LGBMClassifier(**params)
    if name == "hist_gradient_boosting":
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(**params)
    raise ValueError(f"unknown model {name}")
