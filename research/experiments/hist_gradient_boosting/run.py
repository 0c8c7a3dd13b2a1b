"""Experiment: does HistGradientBoosting beat the production models on Iris? (issue 11; not promoted unless it does)"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import boosting_experiment  # noqa: E402
import production  # noqa: E402

NAME = "hist_gradient_boosting"
GRID = {"max_leaf_nodes": [4, 8, 31], "learning_rate": [0.1, 0.3], "max_iter": [50, 100]}


def main():
    boosting_experiment.run(
        NAME, "sklearn.ensemble.HistGradientBoostingClassifier", GRID,
        {k: production.HIST_GRADIENT_BOOSTING[k] for k in GRID}, lambda model: None, "scikit-learn",
        "Does scikit-learn's HistGradientBoostingClassifier (its recommended boosting model) beat the "
        "heuristic, the tree, the forest and XGBoost on Iris, by enough to put it into production?",
        extra_md="- The features are binned into at most 255 bins per feature (Iris has at most 43 distinct "
                 "values per feature, so every value has its own bin); early stopping is off, so every fit "
                 "runs `max_iter` iterations; `min_samples_leaf` (20 rows per leaf) allows at most 6 leaves on 120 "
                 "training rows, so `max_leaf_nodes` 8 and 31 grow the same trees here.\n")


if __name__ == "__main__":
    main()
