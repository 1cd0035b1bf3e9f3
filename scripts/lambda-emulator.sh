#!/usr/bin/env bash
# Runs the real Lambda bootstrap under the AWS Lambda Runtime Interface Emulator
# (aws-lambda-rie on PATH), against the built-in Auth0 Signals simulator, and
# sends one observe call as a Function URL event. Prints the relay's answer.
#
#   go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d
#   scripts/lambda-emulator.sh [IP]
set -euo pipefail
cd "$(dirname "$0")/.."
ip="${1:-203.0.113.66}"
sim_port="${SIM_PORT:-9191}"
rie_port="${RIE_PORT:-9011}"
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

command -v aws-lambda-rie >/dev/null || { echo "aws-lambda-rie is not on PATH (see the header of this script)" >&2; exit 1; }

echo "building bootstrap" >&2
CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -o "$work/bootstrap" ./cmd/signals-relay
go build -o "$work/signals-relay" ./cmd/signals-relay
go build -o "$work/relayctl" ./cmd/relayctl

"$work/signals-relay" simulate --addr "127.0.0.1:$sim_port" >/dev/null 2>&1 &
pids+=($!)

# A SECRET_KEY and a JWT for the simulator's demo key, from the JWT generator.
echo '{"key": "6f1c2a8e-3b4d-4e5f-9a6b-7c8d9e0f1a2b"}' >"$work/credentials.json"
"$work/relayctl" jwt dev --settings deploy/relay_settings.json -f "$work/credentials.json" >"$work/jwt.txt"
secret="$(sed -n 's/^SECRET_KEY: *//p' "$work/jwt.txt")"
jwt="$(sed -n 's/^JWT: *//p' "$work/jwt.txt")"

(cd "$work" && SECRET_KEY="$secret" SIGNALS_API_URL="http://127.0.0.1:$sim_port" LOG_LEVEL=warn \
  exec aws-lambda-rie --runtime-interface-emulator-address "127.0.0.1:$rie_port" ./bootstrap) >"$work/rie.log" 2>&1 &
pids+=($!)

event=$(cat <<JSON
{"version":"2.0","rawPath":"/observe/observables","headers":{"authorization":"Bearer $jwt","content-type":"application/json"},
 "requestContext":{"http":{"method":"POST","path":"/observe/observables","sourceIp":"127.0.0.1"},"stage":"\$default"},
 "body":"[{\"type\":\"ip\",\"value\":\"$ip\"}]","isBase64Encoded":false}
JSON
)
for _ in $(seq 1 100); do
  if answer=$(curl -fsS --max-time 10 "http://127.0.0.1:$rie_port/2015-03-31/functions/function/invocations" -d "$event" 2>/dev/null); then
    echo "$answer"
    exit 0
  fi
  sleep 0.1
done
echo "no answer from the emulator; its log:" >&2
cat "$work/rie.log" >&2
exit 1
