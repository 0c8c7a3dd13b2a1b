# 1. The research environment: scikit-learn 1.9.1, XGBoost 3.2.0 and classify-export (python/).
make venv

# 2. A model of your own: a random forest on scikit-learn's wine data, with missing values.
.venv/bin/python - <<'PY'
import joblib
from sklearn.datasets import load_wine
from sklearn.ensemble import RandomForestClassifier

X, y = load_wine(return_X_y=True, as_frame=True)
X = X.rename(columns={"od280/od315_of_diluted_wines": "od280_od315"})
X.loc[X.index % 8 == 0, "magnesium"] = float("nan")  # one value in eight missing
y = y.map({0: "barolo", 1: "grignolino", 2: "barbera"})
joblib.dump(RandomForestClassifier(n_estimators=50, random_state=0).fit(X, y), "wine.joblib")
PY

# 3. One command: the artifact, a parity file of scikit-learn's own answers, a registry entry.
.venv/bin/classify-export wine.joblib --out wine-export --registry my-models

# 4. Go loads the artifact and checks every parity case (exit status 1 on any mismatch).
go run ./cmd/classify verify-parity wine-export/wine.parity.json

# 5. Serve it, and ask (magnesium missing: null).
go build -o bin/serve ./cmd/serve
bin/serve -model-path my-models -model-type wine -port 8001 > serve.log &
for i in $(seq 100); do curl -fs localhost:8001/health > /dev/null && break; sleep 0.2; done
curl -fs -X POST localhost:8001/predict -H 'Content-Type: application/json' -d '{
  "alcohol": 13.2, "malic_acid": 1.78, "ash": 2.14, "alcalinity_of_ash": 11.2, "magnesium": null,
  "total_phenols": 2.65, "flavanoids": 2.76, "nonflavanoid_phenols": 0.26, "proanthocyanins": 1.28,
  "color_intensity": 4.38, "hue": 1.05, "od280_od315": 3.4, "proline": 1050}'
kill %1
