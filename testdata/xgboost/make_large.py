"""Write the large XGBoost model of issue 14's load-time target to a path
given as argument (not committed: about 13 MB of JSON).

50 features, 5 classes, 400 rounds of depth-8 trees: 2,000 trees. Random
data, seeded; the model's predictions do not matter, only its size.

    /work/main/.venv/bin/python testdata/xgboost/make_large.py /tmp/large.json
    CLASSIFY_XGB_LARGE=/tmp/large.json go test -run '^$' -bench XGBoostLoadLarge .

It also times XGBoost's own load of the file (xgboost.Booster(model_file=
...), median of 15), to compare with BenchmarkXGBoostLoadLarge.
"""

import statistics
import sys
import time

import numpy as np
import xgboost as xgb


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: make_large.py OUT.json")
    out = sys.argv[1]
    rng = np.random.default_rng(14)
    x = rng.normal(size=(20_000, 50)).astype(np.float32)
    y = rng.integers(0, 5, size=20_000)
    params = {"objective": "multi:softprob", "num_class": 5, "max_depth": 8,
              "eta": 0.1, "seed": 14, "nthread": 2, "tree_method": "hist"}
    bst = xgb.train(params, xgb.DMatrix(x, label=y), num_boost_round=400)
    bst.save_model(out)
    times = []
    for _ in range(15):
        t0 = time.perf_counter()
        xgb.Booster(model_file=out)
        times.append(time.perf_counter() - t0)
    n = len(bst.get_dump())
    print(f"{out}: {n} trees, xgboost {xgb.__version__} load median "
          f"{statistics.median(times) * 1e3:.2f} ms (min {min(times) * 1e3:.2f} ms)")


if __name__ == "__main__":
    main()
