#!/usr/bin/env bash
# Counts the instructions of a whole in-process GET invoke against its floor (the same
# event decode, API Gateway adapter and response encode around a trivial handler), with
# valgrind's callgrind: instruction counts do not depend on the machine's load, so the
# ratio is repeatable where wall-clock benchmarks are noisy. Needs valgrind (apt).
#
#   scripts/bench-ratio.sh [iterations]     default 2000
#
# Each benchmark runs twice, with N and 3N iterations; the difference divided by 2N is the
# cost of one invoke without the set-up. Asynchronous preemption is turned off because
# callgrind does not survive Go's preemption signals, and the garbage collector is off so
# that when it happens to run does not move the count (allocations are what the Go
# benchmarks report, as B/op and allocs/op).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "bench-ratio.sh: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
n="${1:-2000}"
bin="$(mktemp -d)/lambdafn.test"
go test -c -o "$bin" ./pkg/lambdafn/
count() { # benchmark iterations -> instructions
	local out
	out="$(cd pkg/lambdafn && GOGC=off GODEBUG=asyncpreemptoff=1 GOMAXPROCS=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
		"$bin" -test.run '^$' -test.bench "^Benchmark$1\$" -test.benchtime "${2}x" 2>&1)"
	grep -o 'Collected : [0-9]*' <<<"$out" | awk '{print $3}'
}
declare -A per
for b in InvokeFloor InvokeGet; do
	lo="$(count "$b" "$n")"
	hi="$(count "$b" "$((3 * n))")"
	per[$b]=$(((hi - lo) / (2 * n)))
	echo "$b: ${per[$b]} instructions/op"
done
awk -v g="${per[InvokeGet]}" -v f="${per[InvokeFloor]}" 'BEGIN { printf "ratio (GET / floor): %.3f\n", g / f }'
