"""Experiment: does LightGBM beat the production models on Iris? (issue 11; not promoted unless it does)"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import boosting_experiment  # noqa: E402
import common  # noqa: E402
import production  # noqa: E402

NAME = "lightgbm"
GRID = {"num_leaves": [4, 8, 31], "learning_rate": [0.1, 0.3], "n_estimators": [50, 100]}


def gain(model):
    g = model.booster_.feature_importance(importance_type="gain")
    return {f: float(v) for f, v in zip(common.FEATURES, g)}


def main():
    boosting_experiment.run(
        NAME, "lightgbm.LGBMClassifier", GRID, {k: production.LIGHTGBM[k] for k in GRID}, gain, "lightgbm",
        "Does LightGBM's gradient boosting beat the heuristic, the tree, the forest and XGBoost on Iris, "
        "by enough to put it into production?",
        extra_md="- LightGBM's `min_child_samples` (20 rows per leaf) allows at most 6 leaves on 120 training "
                 "rows, so `num_leaves` 8 and 31 grow the same trees here.\n")


if __name__ == "__main__":
    main()
