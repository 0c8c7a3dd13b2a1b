"""Write research/data/iris.csv from scikit-learn's bundled copy of the Iris data set.

No download: sklearn.datasets.load_iris reads the CSV shipped inside scikit-learn
(Debian's python3-sklearn). Values are written with repr, so reading them back gives the
identical float64 values.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sklearn.datasets import load_iris  # noqa: E402

import common  # noqa: E402


def main():
    iris = load_iris()
    names = list(iris.target_names)
    if names != common.CLASSES:
        raise SystemExit(f"unexpected class names {names}")
    if iris.data.shape != (150, 4):
        raise SystemExit(f"unexpected shape {iris.data.shape}")
    lines = [",".join(common.FEATURES + ["species"])]
    for row, target in zip(iris.data, iris.target):
        lines.append(",".join([repr(float(v)) for v in row] + [names[target]]))
    common.write_text(common.DATA_CSV, "\n".join(lines) + "\n")
    print(f"wrote {common.rel(common.DATA_CSV)}: {len(lines) - 1} rows")


if __name__ == "__main__":
    main()
