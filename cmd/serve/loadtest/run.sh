#!/bin/sh
# Load benchmark (not a test): drives cmd/serve and a bare net/http handler
# decoding the same JSON (loadtest/bare) with the same bounded keep-alive
# loopback load from wrk, one after the other, and prints both results and
# the ratio. cmd/serve runs as in production: request logs at INFO (to a
# file), metrics, validation and the model all on.
#
# Two phases, each on both servers: throughput (wrk -t2 -c32: saturates the
# machine; compares requests/s) and latency (wrk -t1 -c4: a light load;
# compares p99). Each run is bounded by the duration.
#
# Usage: cmd/serve/loadtest/run.sh [duration] [connections] [threads] [rounds]
# Needs: go, wrk (Debian package wrk). MPS_MODEL_TYPE picks the model
# (default heuristic).
set -eu
duration=${1:-5s}
conns=${2:-32}
threads=${3:-2}
rounds=${4:-3}
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
bare_pid=$!
pids="$pids $!"
MPS_API_HOST=127.0.0.1 MPS_API_PORT=0 MPS_LOG_LEVEL=INFO "$tmp/serve" >"$tmp/serve.log" 2>&1 &
serve_pid=$!
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

rps() { sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$1"; }
pct() { sed -n "s/^ *$1% *\\([0-9.]*[a-z]*\\).*/\\1/p" "$2"; }
us() { # a wrk latency (850.00us, 1.20ms, 2.00s) in microseconds
	echo "$1" | awk '/us$/ { print $0 + 0; next } /ms$/ { print $0 * 1000; next } /s$/ { print $0 * 1000000 }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; } # user+system CPU time, in clock ticks
bench() { # file url threads connections pid
	before=$(ticks "$5")
	wrk -t"$3" -c"$4" -d"$duration" --latency -s "$here/post.lua" "$2" >"$1"
	echo "$(($(ticks "$5") - before))" >"$1.cpu"
}
for url in "http://$bare/predict" "http://$ours/predict"; do # warm up, and check both answer
	curl -fsS -X POST -H 'Content-Type: application/json' \
		-d '{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}' "$url" >/dev/null
	wrk -t"$threads" -c"$conns" -d1s -s "$here/post.lua" "$url" >/dev/null
done
echo "keep-alive POST /predict on loopback; $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $(go version | cut -d' ' -f3)"
echo "$rounds rounds of $duration per server and phase, alternating which server goes first (the machine is shared: alternation spreads other load evenly)"
# Phases: throughput (wrk -t$threads -c$conns, saturating) and latency (wrk -t1 -c4, light).
for phase in throughput latency; do
	t=$threads c=$conns
	[ "$phase" = latency ] && t=1 c=4
	r=1
	while [ $r -le "$rounds" ]; do
		order="bare serve"
		[ $((r % 2)) -eq 0 ] && order="serve bare"
		for s in $order; do
			url="http://$bare/predict" pid=$bare_pid
			[ "$s" = serve ] && url="http://$ours/predict" pid=$serve_pid
			bench "$tmp/$phase-$s-$r.txt" "$url" "$t" "$c" "$pid"
			printf '%-10s %-5s round %d (wrk -t%s -c%s -d%s): %8s req/s, p50 %8s, p99 %8s\n' "$phase" "$s" "$r" "$t" "$c" "$duration" \
				"$(rps "$tmp/$phase-$s-$r.txt")" "$(pct 50 "$tmp/$phase-$s-$r.txt")" "$(pct 99 "$tmp/$phase-$s-$r.txt")"
		done
		r=$((r + 1))
	done
done
lines=$(grep -c '"msg":"request"' "$tmp/serve.log" || true)
total() { for f in "$tmp"/$1-*.txt; do rps "$f"; done | awk '{ s += $1 } END { printf "%.0f", s / NR }'; }
p99s() { for f in "$tmp"/$1-*.txt; do us "$(pct 99 "$f")"; done | median; }
echo "== summary (means of the rounds' req/s; medians of their p99s)"
echo "throughput: bare $(total throughput-bare) req/s, serve $(total throughput-serve) req/s"
awk -v a="$(total throughput-serve)" -v b="$(total throughput-bare)" 'BEGIN { printf "ratio: serve does %.1f%% of bare'"'"'s requests/s (target >= 90%%, issue 14)\n", 100 * a / b }'
# The same ratio per round: each round's two runs are back to back, so a
# change in the machine's other load between rounds cancels out of it.
pairs=""
r=1
while [ $r -le "$rounds" ]; do
	pairs="$pairs $(awk -v a="$(rps "$tmp/throughput-serve-$r.txt")" -v b="$(rps "$tmp/throughput-bare-$r.txt")" 'BEGIN { printf "%.1f", 100 * a / b }')"
	r=$((r + 1))
done
echo "ratio per round:$(for p in $pairs; do printf ' %s%%' "$p"; done); median $(for p in $pairs; do echo "$p"; done | median)%"
awk -v a="$(p99s latency-serve)" -v b="$(p99s latency-bare)" 'BEGIN { printf "latency p99 at -c4: serve %.2f ms, bare %.2f ms (target < 2 ms)\n", a / 1000, b / 1000 }'
awk -v a="$(p99s throughput-serve)" -v b="$(p99s throughput-bare)" -v c="$conns" 'BEGIN { printf "p99 at -c%s: serve %.2f ms, bare %.2f ms\n", c, a / 1000, b / 1000 }'
cpu() { # server CPU time per request over all rounds of a phase, in microseconds
	t=0 n=0
	for f in "$tmp"/$1-*.txt; do
		t=$((t + $(cat "$f.cpu")))
		n=$((n + $(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$f")))
	done
	awk -v t="$t" -v n="$n" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }'
}
echo "server CPU per request (independent of other load): bare $(cpu throughput-bare) us, serve $(cpu throughput-serve) us"
echo "serve wrote $lines request log lines (INFO, JSON, to a file)"
