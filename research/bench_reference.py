"""Time the reference libraries on one Iris row, for comparison with the Go
benchmarks (`go test -bench Predict .`) run on the same machine.

Fits the production configurations (research/production.py's settings) on
the 150 rows and times single-row predict_proba, the call a service makes
per request. Prints nanoseconds per row; nothing is written.

    make bench-reference
"""
import timeit

import xgboost as xgb
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier


def main():
    X, y = load_iris(return_X_y=True)
    row = X[100:101]
    models = {
        "decision_tree": DecisionTreeClassifier(random_state=42),
        "random_forest": RandomForestClassifier(n_estimators=100, random_state=42, n_jobs=1),
        "xgboost": xgb.XGBClassifier(n_estimators=100, max_depth=6, learning_rate=0.3,
                                     tree_method="exact", random_state=42, n_jobs=1),
    }
    for name, model in models.items():
        model.fit(X, y)
        model.predict_proba(row)  # warm up
        number = 300 if name == "random_forest" else 2000
        best = min(timeit.repeat(lambda: model.predict_proba(row), number=number, repeat=3)) / number
        print(f"{name:14s} {best * 1e9:12.0f} ns/row  (single-row predict_proba, best of 3)")


if __name__ == "__main__":
    main()
