#!/usr/bin/env bash
# perf/compare.sh: classify against the reference libraries' own predictors, in one run, on the
# same rows and the same models (issue 14). Prints Markdown tables; --write (make perf-compare
# WRITE=1) also rewrites PERFORMANCE.md with them.
#
#   make venv && make perf-compare              # about 5 minutes on 2 cores
#   QUICK=1 bash perf/compare.sh                # smoke test: 100k CSV rows, a small large model
#
# Steps: perf/reference.py gen (rows, the 1M-row CSV, the large XGBoost model, in a temp dir);
# go build cmd/classify; perf/reference.py check (the reference models are the production
# models); perf/reference.py time (reference predictors); go test -bench over ./perf/ (classify on
# the same rows); perf/reference.py contrib and go test -bench Contributions . (TreeSHAP
# contributions, issue 12: XGBoost's pred_contribs and shap against classify's Contributor);
# perf/reference.py cli (classify predict against pandas + library on the CSV); perf/report.py
# (the tables).
#
# Environment: PYTHON (default .venv/bin/python), GO (default go), QUICK=1, KEEP=1 (keep the temp
# dir and say where), REPS (Python repetitions), COUNT (go test -count), CLI_REPS, CSV_ROWS,
# LARGE_ROUNDS (boosting rounds of the large model; 5 trees each), PERF_COMMAND (the command the
# report names; make perf-compare sets it), PERF_CACHE (where the fitted large model is kept between
# runs, default bin/perf-cache, gitignored; empty: fit it every run).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

write=0
for arg in "$@"; do
	case $arg in
	--write) write=1 ;;
	-h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
	*) echo "perf/compare.sh: unknown argument $arg (use --write)" >&2; exit 2 ;;
	esac
done

PYTHON=${PYTHON:-$root/.venv/bin/python}
PERF_CACHE=${PERF_CACHE-$root/bin/perf-cache}
GO=${GO:-go}
QUICK=${QUICK:-}
if [[ ! -x $PYTHON ]]; then
	echo "perf/compare.sh: no Python at $PYTHON: run make venv first (or set PYTHON)" >&2
	exit 1
fi
if [[ -n $QUICK && $QUICK != 0 ]]; then
	quick=1
	: "${CSV_ROWS:=100000}" "${LARGE_ROUNDS:=20}" "${REPS:=3}" "${COUNT:=2}" "${CLI_REPS:=1}"
	min_time=0.05 benchtime=200ms
else
	quick=0
	: "${CSV_ROWS:=1000000}" "${LARGE_ROUNDS:=400}" "${REPS:=5}" "${COUNT:=5}" "${CLI_REPS:=3}"
	min_time=0.2 benchtime=500ms
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/perf-compare.XXXXXX")
if [[ -n ${KEEP:-} ]]; then
	echo "perf/compare.sh: keeping $tmp" >&2
else
	trap 'rm -rf "$tmp"' EXIT
fi
start=$SECONDS
step() { printf '\n== %s (%d s)\n' "$*" $((SECONDS - start)) >&2; }

cat /proc/loadavg >"$tmp/loadavg-start.txt" 2>/dev/null || echo "? ? ?" >"$tmp/loadavg-start.txt"

step "generate rows, the ${CSV_ROWS}-row CSV and the large model ($((LARGE_ROUNDS * 5)) trees)"
"$PYTHON" perf/reference.py gen --out "$tmp" --csv-rows "$CSV_ROWS" --large-rounds "$LARGE_ROUNDS" --cache "$PERF_CACHE" >&2

step "build classify"
"$GO" build -o "$tmp/classify" ./cmd/classify
"$GO" version >"$tmp/go-version.txt"

step "check that the reference models are the production models"
"$PYTHON" perf/reference.py check --dir "$tmp" --classify "$tmp/classify" >&2

step "time the reference predictors"
"$PYTHON" perf/reference.py time --dir "$tmp" --reps "$REPS" --min-time "$min_time" --out "$tmp/ref.json" >&2

step "time classify (go test -bench ./perf/)"
PERF_ROWS="$tmp/batch.csv" PERF_LARGE_MODEL="$tmp/large.json" PERF_LARGE_ROWS="$tmp/large_rows.csv" \
	PERF_LARGE_MODEL_UBJ="$tmp/large.ubj" \
	"$GO" test -run '^$' -bench '^Benchmark(Compare|Load)$' -benchmem -count "$COUNT" -benchtime "$benchtime" \
	./perf/ | tee "$tmp/go-bench.txt" >&2

step "time the reference contributions (XGBoost pred_contribs, shap TreeExplainer)"
"$PYTHON" perf/reference.py contrib --dir "$tmp" --reps "$REPS" --min-time "$min_time" --out "$tmp/contrib.json" >&2

step "time classify's contributions (go test -bench Contributions .)"
"$GO" test -run '^$' -bench '^BenchmarkContributions$' -benchmem -count "$COUNT" -benchtime "$benchtime" . |
	tee "$tmp/go-contrib-bench.txt" >&2
grep -q '^BenchmarkContributions/' "$tmp/go-contrib-bench.txt" || {
	echo "perf/compare.sh: BenchmarkContributions reported nothing" >&2
	exit 1
}

step "score the CSV: classify predict against pandas + the libraries"
"$PYTHON" perf/reference.py cli --dir "$tmp" --classify "$tmp/classify" --reps "$CLI_REPS" --out "$tmp/cli.json" >&2

cat /proc/loadavg >"$tmp/loadavg-end.txt" 2>/dev/null || echo "? ? ?" >"$tmp/loadavg-end.txt"
step "report"
command=${PERF_COMMAND:-}
if [[ -z $command ]]; then
	command="bash perf/compare.sh${*:+ $*}"
	if ((quick)); then command="QUICK=$QUICK $command"; fi
fi
quickflag=()
if ((quick)); then quickflag=(--quick); fi
"$PYTHON" perf/report.py --dir "$tmp" --command "$command" --seconds $((SECONDS - start)) "${quickflag[@]}" >"$tmp/report.md"
cat "$tmp/report.md"
if ((write)); then
	cp "$tmp/report.md" PERFORMANCE.md
	echo "perf/compare.sh: wrote PERFORMANCE.md" >&2
fi
