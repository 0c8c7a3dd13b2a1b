#!/bin/sh
# Load benchmark (not a test): drives cmd/serve and a bare net/http handler
# decoding the same JSON (loadtest/bare) with the same bounded keep-alive
# loopback load from wrk, one after the other, and prints both results and
# the ratio. cmd/serve runs as in production: request logs at INFO (to a
# file), metrics, validation and the model all on.
#
# Usage: cmd/serve/loadtest/run.sh [duration] [connections] [threads]
# Needs: go, wrk (Debian package wrk). MPS_MODEL_TYPE picks the model
# (default heuristic).
set -eu
duration=${1:-10s}
conns=${2:-32}
threads=${3:-2}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
tmp=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

command -v wrk >/dev/null || { echo "run.sh: wrk not found (apt-get install -y wrk)" >&2; exit 1; }
(cd "$root" && go build -o "$tmp/serve" ./cmd/serve && go build -o "$tmp/bare" ./cmd/serve/loadtest/bare)

"$tmp/bare" 127.0.0.1:0 >"$tmp/bare.out" 2>&1 &
pids="$pids $!"
MPS_API_HOST=127.0.0.1 MPS_API_PORT=0 MPS_LOG_LEVEL=INFO "$tmp/serve" >"$tmp/serve.log" 2>&1 &
pids="$pids $!"

addr() { # wait for a listening address in file $1
	i=0
	while [ $i -lt 100 ]; do
		a=$(sed -n "$2" "$1" | head -n 1)
		[ -n "$a" ] && { echo "$a"; return; }
		i=$((i + 1)); sleep 0.1
	done
	echo "run.sh: no address in $1:" >&2; cat "$1" >&2; exit 1
}
bare=$(addr "$tmp/bare.out" '1p')
ours=$(addr "$tmp/serve.log" 's/.*"msg":"listening","addr":"\([^"]*\)".*/\1/p')

bench() { # name url
	curl -fsS -X POST -H 'Content-Type: application/json' \
		-d '{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}' "$2" >/dev/null
	wrk -t"$threads" -c"$conns" -d"$duration" --latency -s "$here/post.lua" "$2" >"$tmp/$1.txt"
	echo "== $1 ($2)"
	cat "$tmp/$1.txt"
}
echo "wrk -t$threads -c$conns -d$duration --latency, keep-alive, POST /predict; $(nproc) CPUs, $(go version | cut -d' ' -f3)"
bench bare "http://$bare/predict"
bench serve "http://$ours/predict"

rps() { sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$tmp/$1.txt"; }
p99() { sed -n 's/^ *99% *\([0-9.]*[a-z]*\).*/\1/p' "$tmp/$1.txt"; }
lines=$(grep -c '"msg":"request"' "$tmp/serve.log" || true)
echo "== summary"
echo "bare : $(rps bare) req/s, p99 $(p99 bare)"
echo "serve: $(rps serve) req/s, p99 $(p99 serve) ($lines request log lines written)"
awk -v a="$(rps serve)" -v b="$(rps bare)" 'BEGIN { printf "ratio: %.1f%% of bare (target >= 80%%)\n", 100 * a / b }'
