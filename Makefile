# classify: make targets. `make help` lists them with their descriptions.
#
# Sections: Research (Python, research/) below; Go targets go in their own section.
# Every target with a `## description` comment on its rule line shows up in `make help`.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# ---------------------------------------------------------------------------
# Research (Python): see research/README.md
# ---------------------------------------------------------------------------

# research/ runs in a virtual environment made from research/requirements.txt by
# `make environment-create` (exact pins: reruns reproduce the registry byte for byte).
VENV ?= $(CURDIR)/.venv
PYTHON ?= $(VENV)/bin/python
# The interpreter the environment is made with: the machine's Python 3.11.
BASE_PYTHON ?= python3.11
# Model to promote (empty: all four).
NAME ?=
# Single-threaded numeric libraries and a fixed hash seed: reruns are byte-identical.
RESEARCH_ENV := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONHASHSEED=0 PYTHONDONTWRITEBYTECODE=1
PY := $(RESEARCH_ENV) $(PYTHON)
NBCONVERT := $(RESEARCH_ENV) PYDEVD_DISABLE_FILE_VALIDATION=1 $(PYTHON) -m jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.record_timing=False

.PHONY: help research research-check research-data eval-heuristic train-decision-tree \
	train-random-forest train-xgboost train-lightgbm train-hist-gradient-boosting research-summary promote research-golden parity-suite research-contrib research-notebook

help: ## List the targets with their descriptions
	@grep -hE '^[a-zA-Z0-9_.-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  %-22s %s\n", $$1, $$2}'

research: ## Rerun all research from the CSV: data, experiments (LightGBM and HistGradientBoosting too), candidates, summary, promotion, golden files, parity suite, contribution references, notebook
	$(MAKE) --no-print-directory research-data
	$(MAKE) --no-print-directory eval-heuristic
	$(MAKE) --no-print-directory train-decision-tree
	$(MAKE) --no-print-directory train-random-forest
	$(MAKE) --no-print-directory train-xgboost
	$(MAKE) --no-print-directory train-lightgbm
	$(MAKE) --no-print-directory train-hist-gradient-boosting
	$(MAKE) --no-print-directory research-summary
	$(MAKE) --no-print-directory promote NAME=
	$(MAKE) --no-print-directory research-golden
	$(MAKE) --no-print-directory parity-suite
	$(MAKE) --no-print-directory research-contrib
	$(MAKE) --no-print-directory research-notebook

research-check: ## Retrain in a temporary copy and fail if committed artifacts, golden files or results differ
	@test -x $(PYTHON) || { echo "no $(PYTHON): run make environment-create (or make venv) first"; exit 1; }
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

train-lightgbm: ## Evaluate LightGBM (LOOCV, k-fold, grid search) against the production models; no candidate unless its numbers say so
	$(PY) research/experiments/lightgbm/run.py

train-hist-gradient-boosting: ## Evaluate HistGradientBoosting (LOOCV, k-fold, grid search) against the production models; no candidate unless its numbers say so
	$(PY) research/experiments/hist_gradient_boosting/run.py

research-summary: ## Write research/results/SUMMARY.md from the results JSON
	$(PY) research/summarize.py

promote: ## Copy the newest candidate into models/ and rewrite models/manifest.json (NAME=decision_tree; default all four)
	$(PY) research/promote.py $(NAME)

research-golden: ## Write testdata/golden/<model>.json from the reference libraries
	$(PY) research/golden.py

parity-suite: ## Write testdata/parity/<library versions>/ (every kind on digits, breast_cancer, missing values) and testdata/boosting/<versions>/ (lightgbm, hist_gradient_boosting, gradient_boosting on those, Iris and categorical data), with the reference answers
	$(PY) research/parity_suite.py

research-contrib: ## Write testdata/contrib/: TreeSHAP reference contributions, raw outputs and importances of every tree model (registry, testdata/sklearn, xgboost, boosting) from XGBoost, LightGBM and shap
	$(PY) research/contrib_reference.py

research-notebook: ## Execute research/eda/EDA.ipynb in place (outputs and figures saved)
	cd research/eda && $(NBCONVERT) EDA.ipynb

# ---------------------------------------------------------------------------
# Go: build, check, test, serve
# ---------------------------------------------------------------------------

GO ?= go
# The repository is five Go modules tied by go.work: the library (root: the
# classify package, rollout, models, internal/), classifyhttp, classifygrpc
# (the Open Inference Protocol over gRPC, a module of its own so that HTTP-only
# users do not pull gRPC), cmd (serve and classify) and examples/mount.
# ./... stops at a module's edge, so the Go targets name all five.
MODULES := . classifyhttp classifygrpc cmd examples/mount
PKGS := ./... ./classifyhttp/... ./classifygrpc/... ./cmd/... ./examples/mount/...
# x/exp's apidiff, pinned: api-check compares the public API of the library,
# classifyhttp and classifygrpc with the baselines in api/.
APIDIFF := golang.org/x/exp/cmd/apidiff@v0.0.0-20261113113407-e3970619a1a4
API_MODULES := github.com/ml-production-service/classify=. github.com/ml-production-service/classify/classifyhttp=classifyhttp github.com/ml-production-service/classify/classifygrpc=classifygrpc
STATICCHECK_VERSION := v0.8.2
GOBIN := $(shell $(GO) env GOPATH)/bin
STATICCHECK := $(GOBIN)/staticcheck
BIN := bin
PORT ?= 8000
MODEL ?= heuristic
SERVICE_PID := $(BIN)/serve.pid
SERVICE_LOG := $(BIN)/serve.log
IMAGE ?= classify:dev

.PHONY: environment-create venv venv-clients proto proto-check client-test format lint type-check validate-branch unit-test functional-test \
	integration-test all-test tidy module-check api-check api-baseline readme-models api-run build bench bench-reference service-start service-validate service-stop

environment-create: ## Install everything the workflow needs: the research virtualenv (.venv), Go modules, staticcheck, Chromium and wrk
	$(MAKE) --no-print-directory venv
	for m in $(MODULES); do (cd $$m && GOWORK=off $(GO) mod download) || exit 1; done
	GOFLAGS= $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		chromium graphviz wrk; \
	else echo "not root or no apt-get: install Debian's chromium, graphviz and wrk by hand (browser tests, DOT test, load test)"; fi

venv: ## Make the research virtualenv $(VENV) from research/requirements.txt (exact pins) with the exporter package python/ in it
	@test -x $(VENV)/bin/python || $(BASE_PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -r research/requirements.txt
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation --force-reinstall ./python
	@rm -rf python/build python/*.egg-info
	$(VENV)/bin/python -m pip check

venv-clients: venv ## Add the real-client test packages (tritonclient, grpcio-tools: tests/requirements-clients.txt, exact pins) to $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -r tests/requirements-clients.txt
	$(VENV)/bin/python -m pip check

format: ## gofmt every Go file in place
	gofmt -w $$(git ls-files '*.go')

$(STATICCHECK):
	GOFLAGS= $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

lint: $(STATICCHECK) ## go vet and staticcheck (installed at a pinned version)
	$(GO) vet $(PKGS)
	$(STATICCHECK) $(PKGS)

type-check: ## Compile every package, and type-check every test file, without running anything
	$(GO) build $(PKGS)
	$(GO) vet $(PKGS)

tidy: ## go mod tidy in each module (each builds on its own too: GOWORK=off)
	for m in $(MODULES); do (cd $$m && GOWORK=off $(GO) mod tidy) || exit 1; done

module-check: ## A program importing only the library builds with the root go.mod's oldest Go and gains only the library's dependencies
	bash .ci/module-check

api-check: ## Fail on an incompatible change to the public API of the library, classifyhttp or classifygrpc (x/exp apidiff against api/)
	@for m in $(API_MODULES); do \
		path=$${m%%=*}; dir=$${m#*=}; base=$(CURDIR)/api/$$(basename $$path).apidiff; \
		changes=$$(cd $$dir && GOWORK=off GOFLAGS= $(GO) run $(APIDIFF) -m $$base $$path 2>&1 | grep -v '^Ignoring internal package') || true; \
		broken=$$(cd $$dir && GOWORK=off GOFLAGS= $(GO) run $(APIDIFF) -m -incompatible $$base $$path 2>&1 | grep -v '^Ignoring internal package') || true; \
		if [ -n "$$broken" ]; then echo "api-check: $$path breaks its API (a deliberate break: make api-baseline, and say so in the commit):"; echo "$$broken"; exit 1; fi; \
		if [ -n "$$changes" ]; then echo "api-check: $$path adds to its API (compatible; make api-baseline records it):"; echo "$$changes"; \
		else echo "api-check: $$path: API unchanged"; fi; \
	done

api-baseline: ## Record the current public API of the library, classifyhttp and classifygrpc in api/ (after a reviewed change)
	@mkdir -p api
	@for m in $(API_MODULES); do \
		path=$${m%%=*}; dir=$${m#*=}; \
		out=$$(cd $$dir && GOWORK=off GOFLAGS= $(GO) run $(APIDIFF) -m -w $(CURDIR)/api/$$(basename $$path).apidiff $$path 2>&1) || { echo "$$out"; exit 1; }; \
		echo "$$out" | grep -v '^Ignoring internal package' || true; \
		echo "api/$$(basename $$path).apidiff: $$path"; \
	done

validate-branch: ## Everything before a commit: formatting, lint, all tests
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt would change:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory all-test

unit-test: ## Unit tests: everything but the server's flow, binary and browser tests (cmd/classify's still run its binary)
	$(GO) test -race -short -skip 'TestFlow|TestBinary' $(PKGS)

functional-test: ## Functional tests: whole request flows through the server's handler tree
	$(GO) test -race -run 'TestFlow' ./classifyhttp/

integration-test: ## Integration tests: real binaries over TCP and files, the browser test, examples, deployment files
	$(GO) test -race -run 'TestBinary' ./cmd/serve/
	$(GO) test -race -run 'TestDocsRenderInChromium' ./classifyhttp/
	$(GO) test -race ./cmd/classify/ ./examples/... ./examples/mount/... ./deploy/...

all-test: ## Every test with -race, and a coverage report (bin/coverage.html)
	@mkdir -p $(BIN)
	$(GO) test -race -coverprofile=$(BIN)/coverage.out $(PKGS)
	$(GO) tool cover -func=$(BIN)/coverage.out | tail -1
	$(GO) tool cover -html=$(BIN)/coverage.out -o $(BIN)/coverage.html

# The Open Inference Protocol's gRPC code (classifygrpc/inferencepb) is
# generated from classifygrpc/proto/open_inference_grpc.proto by the protoc
# that grpcio-tools bundles (pinned in tests/requirements-clients.txt:
# libprotoc 33.5) with protoc-gen-go and protoc-gen-go-grpc at these versions,
# and committed: building never runs protoc.
PROTOC_GEN_GO := google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
PROTOC_GEN_GO_GRPC := google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
PROTO_TOOLS := $(CURDIR)/$(BIN)/prototools
PROTO_OUT ?= classifygrpc/inferencepb
PROTO_PKG := github.com/ml-production-service/classify/classifygrpc/inferencepb

proto: ## Regenerate classifygrpc/inferencepb from the Open Inference Protocol's .proto (pinned protoc and plugins; needs make venv-clients)
	@test -x $(PYTHON) && $(PYTHON) -c 'import grpc_tools' 2>/dev/null || { echo "no grpc_tools in $(PYTHON): run make venv-clients first"; exit 1; }
	GOBIN=$(PROTO_TOOLS) GOFLAGS= GOWORK=off $(GO) install $(PROTOC_GEN_GO)
	GOBIN=$(PROTO_TOOLS) GOFLAGS= GOWORK=off $(GO) install $(PROTOC_GEN_GO_GRPC)
	@mkdir -p $(PROTO_OUT)
	PATH=$(PROTO_TOOLS):$$PATH $(PYTHON) -m grpc_tools.protoc -I classifygrpc/proto \
		--go_out=$(PROTO_OUT) --go_opt=paths=source_relative --go_opt=Mopen_inference_grpc.proto=$(PROTO_PKG) \
		--go-grpc_out=$(PROTO_OUT) --go-grpc_opt=paths=source_relative --go-grpc_opt=Mopen_inference_grpc.proto=$(PROTO_PKG) \
		open_inference_grpc.proto

proto-check: ## Regenerate the gRPC code into a temporary directory and fail unless it is what is committed
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	$(MAKE) --no-print-directory proto PROTO_OUT=$$tmp >/dev/null && \
	diff -r $$tmp classifygrpc/inferencepb && echo "proto-check: classifygrpc/inferencepb is what make proto generates"

client-test: ## Real clients: tritonclient (http and grpc) against the built server binary (needs make venv-clients)
	@test -x $(PYTHON) && $(PYTHON) -c 'import tritonclient' 2>/dev/null || { echo "no tritonclient in $(PYTHON): run make venv-clients first"; exit 1; }
	@mkdir -p $(BIN)
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/serve ./cmd/serve
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/classify ./cmd/classify
	CLASSIFY_SERVE=$(CURDIR)/$(BIN)/serve CLASSIFY_CLI=$(CURDIR)/$(BIN)/classify $(PYTHON) -m pytest -q -p no:cacheprovider tests/clients

readme-models: ## Rewrite README.md's model tables (production, evaluated) from research/results/SUMMARY.md
	$(GO) test -count=1 -run TestREADMEModels . -update-readme

build: ## Build bin/serve and bin/classify
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/serve ./cmd/serve
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/classify ./cmd/classify

api-run: ## Run the server in the foreground on the embedded models (MODEL=xgboost PORT=8000)
	MPS_MODEL_TYPE=$(MODEL) MPS_API_PORT=$(PORT) $(GO) run ./cmd/serve

bench: ## Library benchmarks (6 runs, benchstat summary), then the HTTP load benchmark against a bare net/http handler
	@mkdir -p $(BIN)
	$(GO) test -run '^$$' -bench . -benchmem -count 6 . | tee $(BIN)/bench.txt
	GOFLAGS= $(GO) run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da $(BIN)/bench.txt
	bash cmd/serve/loadtest/run.sh

# The service-* targets run the Docker image when a Docker engine answers,
# and otherwise the same static binary in the background, saying so. The
# binary's pid is kept in SERVICE_PID: service-start does nothing (and says
# so) while the process it names runs, so a second start cannot orphan the
# first server, and service-stop stops that process and waits for it to exit.
# SERVICE_RUNNING is true when SERVICE_PID names a live serve process.
SERVICE_RUNNING = [ -f $(SERVICE_PID) ] && ps -p "$$(cat $(SERVICE_PID))" -o comm= 2>/dev/null | grep -qx serve

service-start: ## Start the service (Docker image if an engine runs, else the static binary) on PORT; no-op if already running
	@mkdir -p $(BIN) $(dir $(SERVICE_PID)) $(dir $(SERVICE_LOG))
	@if docker info >/dev/null 2>&1; then \
		docker build -t $(IMAGE) . && docker run -d --rm --name classify -p $(PORT):8000 -e MPS_MODEL_TYPE=$(MODEL) $(IMAGE); \
	elif $(SERVICE_RUNNING); then \
		echo "service-start: already running as pid $$(cat $(SERVICE_PID)) ($(SERVICE_PID)); not starting another: make service-stop first to restart"; \
	else \
		echo "no Docker engine answers here: starting the static binary bin/serve instead"; \
		$(MAKE) --no-print-directory build >/dev/null || exit 1; \
		MPS_MODEL_TYPE=$(MODEL) MPS_API_HOST=127.0.0.1 MPS_API_PORT=$(PORT) nohup $(BIN)/serve >$(SERVICE_LOG) 2>&1 & echo $$! >$(SERVICE_PID); \
		echo "started pid $$(cat $(SERVICE_PID)) on 127.0.0.1:$(PORT); log in $(SERVICE_LOG)"; \
	fi

service-validate: ## Check the running service: /health, /ready and the seed's /predict example
	@for i in $$(seq 50); do curl -fsS localhost:$(PORT)/health >/dev/null 2>&1 && break; sleep 0.1; done
	curl -fsS localhost:$(PORT)/health && echo
	curl -fsS localhost:$(PORT)/ready && echo
	@out=$$(curl -fsS -X POST localhost:$(PORT)/predict -H 'Content-Type: application/json' \
		-d '{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}'); \
	echo "$$out"; case "$$out" in '{"prediction":"setosa"'*) echo "service-validate: ok";; *) echo "service-validate: unexpected answer"; exit 1;; esac

service-stop: ## Stop the service started by service-start, waiting for it to exit
	@if docker info >/dev/null 2>&1 && docker ps -q -f name=classify | grep -q .; then \
		docker stop classify; \
	elif $(SERVICE_RUNNING); then \
		pid=$$(cat $(SERVICE_PID)); kill -TERM $$pid; \
		for i in $$(seq 150); do kill -0 $$pid 2>/dev/null || break; sleep 0.1; done; \
		if kill -0 $$pid 2>/dev/null; then echo "service-stop: pid $$pid is still running 15s after SIGTERM"; exit 1; fi; \
		rm -f $(SERVICE_PID); echo "stopped pid $$pid"; \
	elif [ -f $(SERVICE_PID) ]; then \
		echo "service-stop: pid $$(cat $(SERVICE_PID)) in $(SERVICE_PID) is not running: removed the stale pid file"; rm -f $(SERVICE_PID); \
	else echo "no service started by service-start is running"; fi

bench-reference: ## Time scikit-learn and XGBoost on one row, to compare with `make bench` on the same machine
	$(PY) research/bench_reference.py

.PHONY: perf-compare
perf-compare: ## Time classify against XGBoost's and scikit-learn's own predictors on the same rows and CSV (perf/compare.sh; WRITE=1 rewrites PERFORMANCE.md, QUICK=1 smoke run)
	PYTHON=$(PYTHON) GO=$(GO) QUICK=$(QUICK) PERF_COMMAND="make perf-compare$(if $(WRITE), WRITE=$(WRITE))$(if $(QUICK), QUICK=$(QUICK))" \
		bash perf/compare.sh $(if $(WRITE),--write)
