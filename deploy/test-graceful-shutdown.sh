#!/usr/bin/env bash
# Graceful shutdown of the packaged broker (issue 16): started as a pod runs it, under load on
# loopback, sent SIGTERM mid-load, it must answer every request in flight and every request that
# waits for a token being minted, keep serving while readiness reports DOWN for quarkus.shutdown.delay,
# and exit within delay + quarkus.shutdown.timeout. Run by deploy/check.sh; needs the packaged jar
# (./mvnw package -DskipTests), a JDK 17 and Node.js. Everything is on 127.0.0.1 and bounded in time.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
jar="$root/target/quarkus-app/quarkus-run.jar"
# the chart's default delay; a shorter timeout, same mechanism
DELAY_SECONDS=5
TIMEOUT_SECONDS=15
[ -f "$jar" ] || { echo "no $jar: run ./mvnw package -DskipTests first"; exit 1; }

work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
free_port() { # FROM TO: the first port nobody listens on
    for candidate in $(seq "$1" "$2"); do
        (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null || { echo "$candidate"; return 0; }
    done
    return 1
}

# the stand-ins: Azure AD, Vault (token auth), the callers' issuer; they stop by themselves after 120 s
javac -d "$work/standin" "$root/bench/tools/BenchTool.java"
java -cp "$work/standin" BenchTool serve "$work/standin.port" "$work/bearer" 120 >"$work/standin.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do [ -s "$work/standin.port" ] && break; sleep 0.1; done
[ -s "$work/standin.port" ] || { echo "the stand-ins did not start"; exit 1; }
standin="http://127.0.0.1:$(cat "$work/standin.port")"
api_port="$(free_port 18290 18299)" || { echo "no free port in 18290-18299"; exit 1; }
management_port="$(free_port 19290 19299)" || { echo "no free port in 19290-19299"; exit 1; }

cold=()
for i in $(seq -w 1 8); do cold+=("cold-$i"); done
props=(
    quarkus.http.host=127.0.0.1 "quarkus.http.port=$api_port"
    quarkus.management.host=127.0.0.1 "quarkus.management.port=$management_port"
    "quarkus.shutdown.delay=${DELAY_SECONDS}S" "quarkus.shutdown.timeout=${TIMEOUT_SECONDS}S"
    "quarkus.oidc.auth-server-url=$standin" quarkus.oidc.discovery-enabled=false
    quarkus.oidc.jwks-path=/openid/v1/jwks quarkus.oidc.token.issuer=https://bench-issuer.credential-broker.invalid
    "quarkus.vault.url=$standin" quarkus.vault.authentication.client-token=fake-bench-vault-token
    broker.grants.load.callers=system:serviceaccount:bench:load broker.grants.load.environments=*
    broker.grants.load.permissions=token
    broker.rate-limit.token-requests-per-second=1000000 broker.rate-limit.token-burst=1000000
    # cold environments stay cold until asked
    broker.token.warm-up=false
)
for env in warm "${cold[@]}"; do
    props+=("broker.environments.$env.token-endpoint=$standin/{domain}/oauth2/v2.0/token")
done
mapfile -t -O "${#props[@]}" props < <(java -cp "$work/standin" BenchTool tenant-config warm "${cold[@]}")
args=()
for prop in "${props[@]}"; do args+=("-D$prop"); done
java -Xmx256m "${args[@]}" -jar "$jar" >"$work/broker.log" 2>&1 &
broker_pid=$!
pids+=("$broker_pid")
for _ in $(seq 1 600); do
    (exec 3<>"/dev/tcp/127.0.0.1/$api_port") 2>/dev/null && break
    kill -0 "$broker_pid" 2>/dev/null || { tail -20 "$work/broker.log"; echo "the broker exited"; exit 1; }
    sleep 0.1
done

if node "$here/tools/graceful-shutdown.mjs" "http://127.0.0.1:$api_port" "http://127.0.0.1:$management_port" \
    "$standin" "$work/bearer" "$broker_pid" $((DELAY_SECONDS * 1000)) $((TIMEOUT_SECONDS * 1000)) "${cold[@]}"; then
    exit 0
fi
echo "broker log (last lines):"
grep -v '"action":"token.issue"' "$work/broker.log" | tail -20
exit 1
