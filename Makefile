# classify: make targets. `make help` lists them with their descriptions.
#
# Sections: Research (Python, research/) below; Go targets go in their own section.
# Every target with a `## description` comment on its rule line shows up in `make help`.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# ---------------------------------------------------------------------------
# Research (Python): see research/README.md
# ---------------------------------------------------------------------------

PYTHON ?= /usr/bin/python3
# Model to promote (empty: all four).
NAME ?=
# Single-threaded numeric libraries and a fixed hash seed: reruns are byte-identical.
RESEARCH_ENV := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONHASHSEED=0 PYTHONDONTWRITEBYTECODE=1
PY := $(RESEARCH_ENV) $(PYTHON)
NBCONVERT := $(RESEARCH_ENV) PYDEVD_DISABLE_FILE_VALIDATION=1 $(PYTHON) -m jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.record_timing=False

.PHONY: help research research-check research-data eval-heuristic train-decision-tree \
	train-random-forest train-xgboost research-summary promote research-golden research-notebook

help: ## List the targets with their descriptions
	@grep -hE '^[a-zA-Z0-9_.-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  %-22s %s\n", $$1, $$2}'

research: ## Rerun all research from the CSV: data, experiments, candidates, summary, promotion, golden files, notebook
	$(MAKE) --no-print-directory research-data
	$(MAKE) --no-print-directory eval-heuristic
	$(MAKE) --no-print-directory train-decision-tree
	$(MAKE) --no-print-directory train-random-forest
	$(MAKE) --no-print-directory train-xgboost
	$(MAKE) --no-print-directory research-summary
	$(MAKE) --no-print-directory promote NAME=
	$(MAKE) --no-print-directory research-golden
	$(MAKE) --no-print-directory research-notebook

research-check: ## Retrain in a temporary copy and fail if committed artifacts, golden files or results differ
	$(PY) research/check.py --python $(PYTHON)

research-data: ## Write research/data/iris.csv from scikit-learn's bundled Iris copy
	$(PY) research/data/make_iris_csv.py

eval-heuristic: ## Derive and evaluate the heuristic rules (LOOCV, k-fold) and store a candidate
	$(PY) research/experiments/heuristic/run.py
	$(PY) research/train.py heuristic

train-decision-tree: ## Evaluate the decision tree (LOOCV, k-fold, depth sweep) and store a candidate
	$(PY) research/experiments/decision_tree/run.py
	$(PY) research/train.py decision_tree

train-random-forest: ## Evaluate the random forest (LOOCV, k-fold, OOB, grid search) and store a candidate
	$(PY) research/experiments/random_forest/run.py
	$(PY) research/train.py random_forest

train-xgboost: ## Evaluate XGBoost (LOOCV, k-fold, grid search) and store a candidate
	$(PY) research/experiments/xgboost/run.py
	$(PY) research/train.py xgboost

research-summary: ## Write research/results/SUMMARY.md from the results JSON
	$(PY) research/summarize.py

promote: ## Copy the newest candidate into models/ and rewrite models/manifest.json (NAME=decision_tree; default all four)
	$(PY) research/promote.py $(NAME)

research-golden: ## Write testdata/golden/<model>.json from the reference libraries
	$(PY) research/golden.py

research-notebook: ## Execute research/eda/EDA.ipynb in place (outputs and figures saved)
	cd research/eda && $(NBCONVERT) EDA.ipynb
