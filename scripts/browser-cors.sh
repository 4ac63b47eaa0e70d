#!/usr/bin/env bash
# Shows in a real browser (headless Chromium) that a page on another origin can use the
# local API as API.md "Cross-origin use" says, through cmd/local's CORS middleware:
#
#   1. starts the page server (scripts/browsercors) on two free loopback ports, one
#      allowed and one foreign;
#   2. starts the local API on a free port with a fresh data folder and
#      -allow-origin <the allowed page's origin>;
#   3. mints an admin token for org demo (go run ./cmd/local token);
#   4. opens the allowed page: it GETs /v1/orgs/demo/settings/chat-handling with the
#      bearer token, reads the ETag, PUTs with If-Match set to it, reads the new ETag,
#      repeats the PUT with the old ETag (a readable 412) and sends a header the API does
#      not allow (refused: TypeError);
#   5. opens the foreign page: its GET must fail with a TypeError;
#   6. checks the DOM Chromium dumps, prints what the pages saw, and exits non-zero on any
#      failure. Everything it started is stopped on exit.
#
#   scripts/browser-cors.sh
#
# Needs Go and Chromium (Debian: apt-get install -y chromium; CHROMIUM=/path overrides).
# Not part of make test. The flags keep Chromium off the network (no first-run, sync,
# component updates or background requests): it only talks to 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

chromium=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [[ -z "$chromium" ]]; then
	echo "browser-cors.sh: chromium not found; install it (Debian: apt-get install -y chromium) or set CHROMIUM" >&2
	exit 2
fi

work=$(mktemp -d)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
	echo "browser-cors.sh: $*" >&2
	for f in "$work"/pages.out "$work"/local.log; do
		if [[ -s "$f" ]]; then
			echo "--- last lines of $(basename "$f") ---" >&2
			tail -n 20 "$f" >&2
		fi
	done
	exit 1
}

# wait_for FILE REGEX PID: waits up to 30 s for a line matching REGEX in FILE while PID
# runs, and prints the first match.
wait_for() {
	local i
	for ((i = 0; i < 300; i++)); do
		if grep -Eo "$2" "$1" 2>/dev/null | head -n 1 | grep .; then
			return 0
		fi
		kill -0 "$3" 2>/dev/null || fail "$(basename "$1" .out) stopped before printing /$2/"
		sleep 0.1
	done
	fail "timed out waiting for /$2/ in $(basename "$1")"
}

# The servers run as built binaries, so that the ids kept for cleanup are theirs (go run
# would put its own process in between).
go build -o "$work/local" ./cmd/local
go build -o "$work/pages" ./scripts/browsercors

"$work/pages" >"$work/pages.out" 2>&1 &
pids+=($!)
allowed=$(wait_for "$work/pages.out" '^allowed http://127\.0\.0\.1:[0-9]+' "${pids[-1]}" | cut -d' ' -f2)
foreign=$(wait_for "$work/pages.out" '^foreign http://127\.0\.0\.1:[0-9]+' "${pids[-1]}" | cut -d' ' -f2)

"$work/local" -addr 127.0.0.1:0 -data "$work/data" -allow-origin "$allowed" >"$work/local.out" 2>"$work/local.log" &
pids+=($!)
api=$(wait_for "$work/local.out" 'http://127\.0\.0\.1:[0-9]+' "${pids[-1]}")
token=$(go run ./cmd/local token -data "$work/data" -org demo -role admin)

echo "API $api (allow-origin $allowed); allowed page $allowed; foreign page $foreign"

# browse MODE ORIGIN: loads the page in headless Chromium and leaves the DOM in
# $work/MODE.html.
browse() {
	local profile
	profile=$(mktemp -d -p "$work" chromium-XXXXXX)
	timeout -k 5 90 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$profile" --virtual-time-budget=10000 \
		--dump-dom "$2/?mode=$1&api=$api&token=$token" >"$work/$1.html" 2>"$work/$1.err" ||
		{ tail -n 20 "$work/$1.err" >&2; fail "chromium failed on the $1 page"; }
}

status=0
for mode in allowed foreign; do
	if [[ $mode == allowed ]]; then browse "$mode" "$allowed"; else browse "$mode" "$foreign"; fi
	echo "== $mode page"
	# What the page wrote into <pre id="log">, then its verdict.
	sed -n '/<pre id="log">/,/<\/pre>/p' "$work/$mode.html" | sed -e 's/<pre id="log">//' -e 's/<\/pre>//' -e '/^$/d' -e 's/&quot;/"/g' -e 's/^/  /'
	result=$(grep -o '<p id="result">[^<]*' "$work/$mode.html" | sed 's/.*>//' || true)
	[[ -n "$result" ]] || result="RESULT: none (no result element in the DOM)"
	echo "  $result"
	[[ $result == "RESULT: PASS" ]] || status=1
done

# The allowed page must have read both ETags (GET and PUT) and the 412.
grep -Eq 'GET status 200 ETag "[0-9]+"' "$work/allowed.html" || status=1
grep -Eq 'PUT If-Match "[0-9]+" status 200 ETag "[0-9]+"' "$work/allowed.html" || status=1
grep -q 'stale PUT .* status 412' "$work/allowed.html" || status=1
grep -q 'foreign GET: blocked (TypeError' "$work/foreign.html" || status=1

if [[ $status -ne 0 ]]; then
	fail "the browser did not see what API.md promises (see above)"
fi
echo "browser-cors.sh: PASS"
