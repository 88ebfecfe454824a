#!/usr/bin/env bash
# The broker against the fastest endpoint of the same stack, on this machine, in one run (issue 7),
# and against the framework floor: the same stack doing only the framework work the broker's
# requirements force (bench/floor). Builds the three apps, starts the stand-ins (Azure AD, Vault, the
# callers' JWKS issuer) on loopback, measures five figures and writes them to bench/RESULTS.md.
# Everything targets 127.0.0.1; every load is bounded in time, every wait in time and count. About
# 16 minutes on 2 cores (figure 1 alone, BENCH_FIGURE1_ONLY=1: about 9).
#
#   bench/run.sh                # the full run
#   WRK_SECONDS=10 REFRESH_SECONDS=30 bench/run.sh   # a quick look (RESULTS.md says so)
#   BENCH_PROFILE=1 bench/run.sh   # also record a JFR profile of figure 1's brokers under each load
#                                  # shape (after the measured rounds) and summarise it in RESULTS.md
#   BENCH_PROFILE=1 BENCH_FIGURE1_ONLY=1 bench/run.sh   # figure 1 and its profiles only, printed;
#                                  # RESULTS.md is left alone
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
WRK_SECONDS="${WRK_SECONDS:-25}"
# long enough for the JIT to finish the broker's hot path on 2 busy cores (15 s was not: the
# broker's throughput still rose by half from one 5 s round to the next)
WRK_WARMUP_SECONDS="${WRK_WARMUP_SECONDS:-30}"
# figure 3: seconds of load on each of its two brokers, in REFRESH_ROUNDS turns
REFRESH_SECONDS="${REFRESH_SECONDS:-90}"
REFRESH_ROUNDS=6
CONNECTIONS=64
WRK_THREADS=2
HERD=1000
HERD_ENVIRONMENTS=10
BROKER_PORT=18181
STEADY_PORT=18187
CEILING_PORT=18182
OFF_PORT=18183
QUIET_PORT=18184
CALLERS_PORT=18185
FLOOR_PORT=18186
# each broker's management interface (probes, metrics) listens 100 above its HTTP port: the
# brokers of figure 1 run side by side
MANAGEMENT_OFFSET=100
# five rounds, so that the median of their percentiles stands when two go wrong: a round's first
# moments can catch the JIT recompiling the request path after wrk's new connections deoptimized it
# (seen with JFR: C2 takes 100 to 240 ms of a busy core per method, and the event loop runs slower
# code meanwhile); with three rounds, two such rounds decided the 1,000 callers' p99
ROUNDS=5
BENCH_PROFILE="${BENCH_PROFILE:-0}"
BENCH_FIGURE1_ONLY="${BENCH_FIGURE1_ONLY:-0}"
PROFILE_SECONDS="${PROFILE_SECONDS:-20}"
# identical for every application
JVM_OPTS=(-Xmx512m -XX:+UseG1GC)
# JFR keeps 64 frames of a sample's stack by default; a request's stack is deeper, and cut stacks
# under-count the outer frames' inclusive shares. Recording is off until JFR.start, and every app gets it.
if [ "$BENCH_PROFILE" = 1 ]; then JVM_OPTS+=(-XX:FlightRecorderOptions:stackdepth=256); fi

work="$(mktemp -d /tmp/credential-broker-bench.XXXXXX)"
started_at=$(date +%s)
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
pids=()

cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    # the brokers' logs hold one audit line per request: keep only what the report needs (an if, not
    # an &&: as the trap's last command a false test made the script exit 1 after BENCH_FIGURE1_ONLY)
    if [ "${bench_ok:-}" = 1 ]; then rm -f "$work"/*.log; fi
}
trap cleanup EXIT

say() { printf '[bench %4ss] %s\n' "$(($(date +%s) - started_at))" "$*" >&2; }
fail() { say "FAILED: $*"; exit 1; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ------------------------------------------------------------------------------------ tools, builds
if ! command -v wrk >/dev/null 2>&1; then
    say "installing wrk"
    apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
for port in $BROKER_PORT $CEILING_PORT $OFF_PORT $QUIET_PORT $CALLERS_PORT $FLOOR_PORT $((BROKER_PORT + MANAGEMENT_OFFSET)) \
    $((OFF_PORT + MANAGEMENT_OFFSET)) $((QUIET_PORT + MANAGEMENT_OFFSET)) $((CALLERS_PORT + MANAGEMENT_OFFSET)); do
    port_free "$port" || fail "port $port on 127.0.0.1 is taken"
done

say "building the broker (package, tests skipped: ./mvnw verify runs them)"
(cd "$root" && ./mvnw -B -q package -DskipTests -DskipITs) >"$work/build-broker.txt" 2>&1 \
    || { tail -30 "$work/build-broker.txt"; fail "broker build"; }
say "building the ceiling app"
(cd "$here/ceiling" && "$root/mvnw" -B -q package -DskipTests) >"$work/build-ceiling.txt" 2>&1 \
    || { tail -30 "$work/build-ceiling.txt"; fail "ceiling build"; }
say "building the framework floor app"
(cd "$here/floor" && "$root/mvnw" -B -q package -DskipTests) >"$work/build-floor.txt" 2>&1 \
    || { tail -30 "$work/build-floor.txt"; fail "floor build"; }
mkdir -p "$work/tools"
javac -d "$work/tools" "$here/tools/BenchTool.java"
tool() { java -cp "$work/tools" BenchTool "$@"; }

# ------------------------------------------------------------------------------------ stand-ins
say "starting the stand-ins: Azure AD token endpoint, Vault KV v2, callers' JWKS issuer"
java -cp "$work/tools" BenchTool serve "$work/standin.port" "$work/bearer" 1200 "$work/callers" \
    >"$work/standins.txt" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do [ -s "$work/standin.port" ] && break; sleep 0.1; done
[ -s "$work/standin.port" ] || fail "stand-ins did not start"
SP="$(cat "$work/standin.port")"
STANDIN="http://127.0.0.1:$SP"
export BENCH_BEARER="$(cat "$work/bearer")"
export BENCH_CALLERS_FILE="$work/callers"
control() { curl -fsS --max-time 5 "$STANDIN/control/$1"; }
azure_total() { control token-requests | awk '$1 == "total" { print $2 }'; }

# ------------------------------------------------------------------------------------ apps
# write_config NAME ENVIRONMENTS [extra properties...]: the broker's prod profile, pointed at the
# stand-ins, with one grant for the bench's caller on every environment.
write_config() {
    local name="$1" count="$2"
    shift 2
    local file="$work/$name.properties"
    {
        echo "quarkus.http.host=127.0.0.1"
        echo "quarkus.http.port=$BROKER_PORT"
        echo "quarkus.management.host=127.0.0.1"
        echo "quarkus.management.port=$((BROKER_PORT + MANAGEMENT_OFFSET))"
        echo "quarkus.oidc.auth-server-url=$STANDIN"
        echo "quarkus.oidc.discovery-enabled=false"
        echo "quarkus.oidc.jwks-path=/openid/v1/jwks"
        echo "quarkus.oidc.token.issuer=https://bench-issuer.credential-broker.invalid"
        echo "quarkus.vault.url=$STANDIN"
        echo "quarkus.vault.authentication.client-token=fake-bench-vault-token"
        echo "broker.grants.bench.callers=system:serviceaccount:bench:load"
        echo "broker.grants.bench.environments=*"
        echo "broker.grants.bench.permissions=token"
        # one caller drives all the load: lift its per-caller limit (100/s by default)
        echo "broker.rate-limit.token-requests-per-second=10000000"
        echo "broker.rate-limit.token-burst=10000000"
        for i in $(seq 1 "$count"); do
            printf 'broker.environments.env-%03d.token-endpoint=%s/{domain}/oauth2/v2.0/token\n' "$i" "$STANDIN"
        done
        # each environment is pinned to the tenant the stand-in's tokens for it name
        # shellcheck disable=SC2046
        tool tenant-config $(seq -f 'env-%03g' 1 "$count")
        for extra in "$@"; do echo "$extra"; done
    } >"$file"
    echo "$file"
}

app_pid=""
app_ready_ms=""
# start_app NAME PORT READY_URL READY_METHOD java-args...: starts it, waits (at most 60 s) for READY_URL
start_app() {
    local name="$1" port="$2" url="$3" method="$4"
    shift 4
    local t0
    t0=$(date +%s%N)
    java "${JVM_OPTS[@]}" "$@" >"$work/$name.log" 2>&1 &
    app_pid=$!
    pids+=("$app_pid")
    for _ in $(seq 1 3000); do
        if curl -fsS -o /dev/null --max-time 1 -X "$method" -H "Authorization: Bearer $BENCH_BEARER" "$url" 2>/dev/null; then
            app_ready_ms=$((($(date +%s%N) - t0) / 1000000))
            return 0
        fi
        kill -0 "$app_pid" 2>/dev/null || { tail -30 "$work/$name.log"; fail "$name exited"; }
        sleep 0.02
    done
    tail -30 "$work/$name.log"
    fail "$name not ready within 60 s"
}
stop_app() {
    kill "$app_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$app_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$app_pid" 2>/dev/null || true
    wait "$app_pid" 2>/dev/null || true
}
# The configuration goes in as system properties. Not through quarkus.config.locations: with its
# URL from such a file, quarkus-vault 4.7.0's client fails every read with a NullPointerException in
# MutinyVertxClientFactory (seen here; system properties and environment variables work).
# start_broker NAME CONFIG [PROBE]: waits for readiness, or for PROBE (a broker without warm-up is
# not ready before its first request loads a credential)
start_broker() {
    local name="$1" config="$2" probe="${3:-/q/health/ready}" props=()
    while IFS= read -r line; do
        [ -n "$line" ] && props+=("-D$line")
    done <"$config"
    start_app "$name" $BROKER_PORT "http://127.0.0.1:$((BROKER_PORT + MANAGEMENT_OFFSET))$probe" GET \
        "${props[@]}" -jar "$root/target/quarkus-app/quarkus-run.jar"
}
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
quarkus_started() { sed -n 's/.* started in \([0-9.]*\)s.*/\1/p' "$work/$1.log" | head -1; }

# wrk_run LABEL URL SECONDS [SCRIPT]: prints the RESULT line's fields as "key=value ..."; SCRIPT is
# token.lua (one caller) by default, callers.lua for the 1,000 distinct callers
wrk_run() {
    local label="$1" url="$2" seconds="$3" script="${4:-token.lua}"
    wrk -t$WRK_THREADS -c$CONNECTIONS -d"${seconds}s" --timeout 10s -s "$here/wrk/$script" "$url" \
        >"$work/wrk-$label.txt" 2>&1 || true
    grep '^RESULT' "$work/wrk-$label.txt" | sed 's/^RESULT //' || fail "wrk $label printed no result"
}
field() { tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k { print $2 }'; }
rps() { awk -v r="$(field "$1" requests)" -v d="$(field "$1" duration_us)" 'BEGIN { printf "%.0f", r / (d / 1e6) }'; }
errors() {
    local r="$1"
    echo $(($(field "$r" non2xx) + $(field "$r" connect) + $(field "$r" read) + $(field "$r" write) + $(field "$r" timeout)))
}
ms() { awk -v us="$1" 'BEGIN { printf "%.2f", us / 1000 }'; }
# combine FILE: rounds of one app as one result: requests and errors summed, latency percentiles the
# median of the rounds' (wrk's histograms cannot be merged from its summary)
combine() {
    awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1], NR] = kv[2] } n = NR }
        function med(k,   a, i, j, t) { for (i = 1; i <= n; i++) a[i] = v[k, i] + 0
            for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
            return a[int((n + 1) / 2)] }
        function sum(k,   i, t) { t = 0; for (i = 1; i <= n; i++) t += v[k, i]; return t }
        END { printf "requests=%d duration_us=%d non2xx=%d connect=%d read=%d write=%d timeout=%d p50=%d p99=%d p999=%d max=%d\n",
            sum("requests"), sum("duration_us"), sum("non2xx"), sum("connect"), sum("read"), sum("write"), sum("timeout"),
            med("p50"), med("p99"), med("p999"), med("max") }' "$1"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f", a / b }'; }

token_url="http://127.0.0.1:$BROKER_PORT/v1/environments/env-001/token"
ceiling_url="http://127.0.0.1:$CEILING_PORT/v1/environments/env-001/token"
off_url="http://127.0.0.1:$OFF_PORT/v1/environments/env-001/token"
quiet_url="http://127.0.0.1:$QUIET_PORT/v1/environments/env-001/token"
callers_url="http://127.0.0.1:$CALLERS_PORT/v1/environments/env-001/token"
floor_url="http://127.0.0.1:$FLOOR_PORT/v1/environments/env-001/token"

# ------------------------------------------------------------------------------------ figure 1 (+5)
# The apps run side by side and take turns under wrk, in $ROUNDS rounds whose order rotates, so that
# whatever else the machine does at the time weighs on each of them alike. Two load shapes: one
# caller (its rate limit lifted), and 1,000 distinct callers taken round-robin (each with its own
# JWT, under the default rate limit), each against the ceiling app with the same wrk script. The
# framework floor app takes its turns in the one-caller shape, with the broker's one-caller bearer.
say "figure 1: starting the broker (verified-token cache on), the broker (cache off), the broker (audit off), the broker for 1,000 callers, the ceiling app and the framework floor app"
start_broker broker-cache-on "$(write_config broker-cache-on 1)"
on_pid=$app_pid
broker_ready_ms=$app_ready_ms
broker_started_s=$(quarkus_started broker-cache-on)
broker_rss_idle=$(rss_kb "$on_pid")
body_bytes=$(curl -fsS --max-time 5 -X POST -H "Authorization: Bearer $BENCH_BEARER" "$token_url" | wc -c)
[ "$body_bytes" -gt 100 ] || fail "the broker gave no token"

start_app ceiling $CEILING_PORT "$ceiling_url" POST -Dquarkus.http.host=127.0.0.1 \
    -Dquarkus.http.port=$CEILING_PORT -Dceiling.body-bytes="$body_bytes" -jar "$here/ceiling/target/quarkus-app/quarkus-run.jar"
ceiling_pid=$app_pid
ceiling_ready_ms=$app_ready_ms
ceiling_started_s=$(quarkus_started ceiling)
ceiling_rss_idle=$(rss_kb "$ceiling_pid")
ceiling_body_bytes=$(curl -fsS --max-time 5 -X POST "$ceiling_url" | wc -c)

# the framework floor: Quarkus REST and Quarkus security as the broker's token path uses them
# (bearer mechanism, @Authenticated with proactive authentication off, request-id filters, a body
# parameter), answering a constant body of the broker's size; none of the broker's own work
start_app floor $FLOOR_PORT "$floor_url" POST -Dquarkus.http.host=127.0.0.1 \
    -Dquarkus.http.port=$FLOOR_PORT -Dfloor.body-bytes="$body_bytes" -jar "$here/floor/target/quarkus-app/quarkus-run.jar"
floor_pid=$app_pid
floor_body_bytes=$(curl -fsS --max-time 5 -X POST -H "Authorization: Bearer $BENCH_BEARER" "$floor_url" | wc -c)

BROKER_PORT=$OFF_PORT start_broker broker-cache-off \
    "$(BROKER_PORT=$OFF_PORT write_config broker-cache-off 1 broker.auth.verified-token-cache.enabled=false)"
off_pid=$app_pid

# what the audit log costs: the same broker with its audit category turned off (never in production)
BROKER_PORT=$QUIET_PORT start_broker broker-audit-off "$(BROKER_PORT=$QUIET_PORT write_config broker-audit-off 1 \
    'quarkus.log.category."credential-broker.audit".level=OFF')"
quiet_pid=$app_pid

# the second load shape: 1,000 callers, one grant naming them all, the default per-caller rate limit
# (100 requests/s, burst 200: at this machine's throughput each caller sends a few dozen a second)
BROKER_PORT=$CALLERS_PORT start_broker broker-callers "$(BROKER_PORT=$CALLERS_PORT write_config broker-callers 1 \
    "broker.grants.many.callers=$(tool caller-names)" broker.grants.many.environments=env-001 \
    broker.grants.many.permissions=token broker.rate-limit.token-requests-per-second=100 \
    broker.rate-limit.token-burst=200)"
callers_pid=$app_pid

declare -A url_of=([on]="$token_url" [off]="$off_url" [quiet]="$quiet_url" [ceiling]="$ceiling_url"
    [floor]="$floor_url" [callers]="$callers_url" [ceiling2]="$ceiling_url")
declare -A script_of=([on]=token.lua [off]=token.lua [quiet]=token.lua [ceiling]=token.lua
    [floor]=token.lua [callers]=callers.lua [ceiling2]=callers.lua)
apps=(on off quiet ceiling floor callers ceiling2)
declare -A label_of=([ceiling]="ceiling app, one caller" [floor]="framework floor" [on]="broker, one caller"
    [ceiling2]="ceiling app, 1,000 callers" [callers]="broker, 1,000 callers")
# warm-up, then a 5 s pass each: after 30 s of load a broker's first 5 s round still ran at two
# thirds of its later rounds (the JIT compiles on the same 2 cores); the pass is not counted
for app in "${apps[@]}"; do
    wrk_run "warmup-$app" "${url_of[$app]}" "$WRK_WARMUP_SECONDS" "${script_of[$app]}" >/dev/null
done
for app in "${apps[@]}"; do
    wrk_run "settle-$app" "${url_of[$app]}" 5 "${script_of[$app]}" >/dev/null
done
slice=$((WRK_SECONDS / ROUNDS))
order=(ceiling floor on off quiet ceiling2 callers)
for round in $(seq 1 $ROUNDS); do
    say "figure 1: round $round of $ROUNDS (${order[*]}, ${slice} s each)"
    for app in "${order[@]}"; do
        wrk_run "$app-$round" "${url_of[$app]}" "$slice" "${script_of[$app]}" >>"$work/rounds-$app.txt"
    done
    order=("${order[@]:1}" "${order[0]}")
done
on=$(combine "$work/rounds-on.txt"); off=$(combine "$work/rounds-off.txt"); ceiling=$(combine "$work/rounds-ceiling.txt")
quiet=$(combine "$work/rounds-quiet.txt"); callers=$(combine "$work/rounds-callers.txt")
ceiling2=$(combine "$work/rounds-ceiling2.txt"); floor=$(combine "$work/rounds-floor.txt")
broker_rss_load=$(rss_kb "$on_pid")
ceiling_rss_load=$(rss_kb "$ceiling_pid")

# BENCH_PROFILE=1: a JFR profile of the default broker under each load shape, after the measured
# rounds (so the recording's own cost is in none of the figures above)
declare -A profile_of=()
if [ "$BENCH_PROFILE" = 1 ]; then
    for app in on callers; do
        pid_var="${app}_pid"
        say "figure 1: recording a ${PROFILE_SECONDS} s JFR profile of the broker ($app)"
        jcmd "${!pid_var}" JFR.start name=bench settings=profile filename="$work/profile-$app.jfr" >/dev/null
        wrk_run "profile-$app" "${url_of[$app]}" "$PROFILE_SECONDS" "${script_of[$app]}" >"$work/profile-$app-wrk.txt"
        jcmd "${!pid_var}" JFR.stop name=bench >/dev/null
        profile_of[$app]=$(tool profile "$work/profile-$app.jfr")
    done
fi
for app_pid in "$on_pid" "$off_pid" "$quiet_pid" "$ceiling_pid" "$floor_pid" "$callers_pid"; do stop_app; done

if [ "$BENCH_FIGURE1_ONLY" = 1 ]; then
    for app in ceiling floor on off quiet ceiling2 callers; do
        r=$(combine "$work/rounds-$app.txt")
        printf '%-9s req/s %s p50 %s p99 %s p99.9 %s errors %s\n' "$app" "$(rps "$r")" "$(ms "$(field "$r" p50)")" \
            "$(ms "$(field "$r" p99)")" "$(ms "$(field "$r" p999)")" "$(errors "$r")"
    done
    echo "one caller: throughput $(ratio "$(rps "$on")" "$(rps "$ceiling")") of the ceiling, p99 $(ratio "$(field "$on" p99)" "$(field "$ceiling" p99)")x"
    echo "1,000 callers: throughput $(ratio "$(rps "$callers")" "$(rps "$ceiling2")") of the ceiling, p99 $(ratio "$(field "$callers" p99)" "$(field "$ceiling2" p99)")x"
    echo "framework floor / ceiling: $(ratio "$(rps "$floor")" "$(rps "$ceiling")") (one caller's throughput), p99 $(ratio "$(field "$floor" p99)" "$(field "$ceiling" p99)")x"
    echo "broker / framework floor: $(ratio "$(rps "$on")" "$(rps "$floor")") (one caller's throughput), p99 $(ratio "$(field "$on" p99)" "$(field "$floor" p99)")x"
    for app in "${!profile_of[@]}"; do
        printf '\n## profile: %s\n\n%s\n' "$app" "${profile_of[$app]}"
    done
    say "figure 1 only (BENCH_FIGURE1_ONLY=1): RESULTS.md left alone; raw output in $work"
    bench_ok=1 # the brokers' logs (an audit line per request, about a gigabyte) go with the others
    exit 0
fi

# ------------------------------------------------------------------------------------ figure 2
say "figure 2: cold herd, $HERD concurrent first requests on each of $HERD_ENVIRONMENTS environments in turn"
control reset >/dev/null
control "token-delay?300" >/dev/null # Azure AD takes 300 ms: the herd arrives while the mint is in flight
start_broker broker-herd "$(write_config broker-herd $HERD_ENVIRONMENTS broker.token.warm-up=false)" /q/health/started
herd_before=$(azure_total)
envs=()
for i in $(seq 1 $HERD_ENVIRONMENTS); do envs+=("$(printf 'env-%03d' "$i")"); done
tool herd "http://127.0.0.1:$BROKER_PORT" "$work/bearer" $HERD "${envs[@]}" >"$work/herd.txt"
herd_requests=$(control token-requests)
herd_total=$(($(azure_total) - herd_before))
herd_ok=$(awk '$1 == "outcome" && $3 == "200" { s += $4 } END { print s + 0 }' "$work/herd.txt")
herd_sent=$(awk '$1 == "requests" { print $2 }' "$work/herd.txt")
herd_ms=$(awk '$1 == "requests" { print $4 }' "$work/herd.txt")
herd_max_per_env=$(grep '^fake-env-' <<<"$herd_requests" | awk 'BEGIN { m = 0 } { if ($2 > m) m = $2 } END { print m }')
herd_min_per_env=$(grep '^fake-env-' <<<"$herd_requests" | awk 'BEGIN { m = 1e9 } { if ($2 < m) m = $2 } END { print (m == 1e9 ? 0 : m) }')
herd_envs_seen=$(grep -c '^fake-env-' <<<"$herd_requests" || true)
stop_app
control "token-delay?0" >/dev/null

# ------------------------------------------------------------------------------------ figure 3
# Two brokers take turns under load, as figure 1's apps do, so that a stall of the machine (this one
# has shown ~100 ms ones, the ceiling app's alone included) weighs on one round of one of them, not
# on the whole figure: one refreshes 30 s tokens, the other holds an hour-long token and never does.
say "figure 3: refresh under load: a broker refreshing 30 s tokens and one on an hour-long token take turns, $REFRESH_ROUNDS rounds"
# the Azure AD requests a broker made, from its own metrics
azure_of() {
    curl -fsS --max-time 5 "http://127.0.0.1:$(($1 + MANAGEMENT_OFFSET))/q/metrics" |
        awk '/^broker_azure_ad_requests_total/ { t += $NF } END { printf "%d", t }'
}
control reset >/dev/null
token_props=(broker.token.min-remaining=5S broker.token.clock-skew=1S broker.token.refresh-before=15S
    broker.token.max-client-ttl=10S)
control "token-lifetime?3599" >/dev/null
BROKER_PORT=$STEADY_PORT start_broker broker-steady "$(BROKER_PORT=$STEADY_PORT write_config broker-steady 1 \
    "${token_props[@]}")"
steady_pid=$app_pid
steady_url="http://127.0.0.1:$STEADY_PORT/v1/environments/env-001/token"
# its hour-long token is minted (readiness may come before the warm-up's mint: a request makes sure)
# before the stand-in turns to 30 s ones for the other
curl -fsS -o /dev/null --max-time 10 -X POST -H "Authorization: Bearer $BENCH_BEARER" "$steady_url" \
    || fail "the hour-token broker answered no token"
control "token-lifetime?30" >/dev/null
# a 30 s token is servable for 30 - 5 - 1 = 24 s; its refresh starts 15 s before expiry (less jitter)
start_broker broker-refresh "$(write_config broker-refresh 1 "${token_props[@]}")"
refresh_pid=$app_pid
# twice the warm-up: these brokers are new, and a JIT still compiling would weigh on the first rounds
wrk_run warmup-refresh "$token_url" "$((2 * WRK_WARMUP_SECONDS))" >/dev/null
wrk_run warmup-steady "$steady_url" "$((2 * WRK_WARMUP_SECONDS))" >/dev/null
refresh_before=$(azure_of "$BROKER_PORT")
steady_before=$(azure_of "$STEADY_PORT")
refresh_slice=$((REFRESH_SECONDS / REFRESH_ROUNDS))
turns=(refreshing steady)
declare -A fig3_url=([refreshing]="$token_url" [steady]="$steady_url")
for round in $(seq 1 $REFRESH_ROUNDS); do
    for run in "${turns[@]}"; do
        wrk_run "$run-$round" "${fig3_url[$run]}" "$refresh_slice" >>"$work/rounds-$run.txt"
    done
    turns=("${turns[1]}" "${turns[0]}")
done
refreshes=$(($(azure_of "$BROKER_PORT") - refresh_before))
steady_refreshes=$(($(azure_of "$STEADY_PORT") - steady_before))
refreshing=$(combine "$work/rounds-refreshing.txt")
steady=$(combine "$work/rounds-steady.txt")
for app_pid in "$refresh_pid" "$steady_pid"; do stop_app; done
# back to hour-long tokens: figure 4's brokers, on the default lifetime policy, refuse 30 s ones
control "token-lifetime?3599" >/dev/null

# ------------------------------------------------------------------------------------ figure 4
say "figure 4: 1, 10 and 100 environments: heap after GC, refresh schedule"
declare -A heap schedule_out warmup_requests warmup_in_flight warmup_span
# Azure AD answers in 100 ms, so that the warm-up's pace (broker.token.warm-up-concurrency) shows
control "token-delay?100" >/dev/null
for n in 1 10 100; do
    control reset >/dev/null
    start_broker "broker-envs-$n" "$(write_config "broker-envs-$n" "$n")"
    for _ in $(seq 1 300); do [ "$(azure_total)" -ge "$n" ] && break; sleep 0.1; done
    # every environment served once through the API too, so its per-environment paths are warm
    for i in $(seq 1 "$n"); do
        curl -fsS -o /dev/null --max-time 5 -X POST -H "Authorization: Bearer $BENCH_BEARER" \
            "http://127.0.0.1:$BROKER_PORT/v1/environments/$(printf 'env-%03d' "$i")/token"
    done
    warmup_requests[$n]=$(azure_total)
    warmup_in_flight[$n]=$(control token-requests | awk '$1 == "max_in_flight" { print $2 }')
    warmup_span[$n]=$(control token-log | awk 'NF == 2 { if (!s || $1 < s) s = $1; if ($1 > e) e = $1 } END { print e - s }')
    jcmd "$app_pid" GC.run >/dev/null
    sleep 1
    # the live-object histogram forces a full GC first; its total is the heap after GC
    heap[$n]=$(jcmd "$app_pid" GC.class_histogram | awk '$1 == "Total" { print $3 }')
    schedule_out[$n]=$(tool schedule "$work/broker-envs-$n.log" 3599)
    stop_app
done
control "token-delay?0" >/dev/null
per_env_10=$(awk -v a="${heap[10]}" -v b="${heap[1]}" 'BEGIN { printf "%.1f", (a - b) / 9 / 1024 }')
per_env_100=$(awk -v a="${heap[100]}" -v b="${heap[1]}" 'BEGIN { printf "%.1f", (a - b) / 99 / 1024 }')
sched() { awk -v k="$2" '$1 == k { $1 = ""; sub(/^ /, ""); print }' <<<"${schedule_out[$1]}"; }

# ------------------------------------------------------------------------------------ report
elapsed=$(($(date +%s) - started_at))
load_at_end=$(cut -d' ' -f1-3 /proc/loadavg)
on_rps=$(rps "$on"); off_rps=$(rps "$off"); ceiling_rps=$(rps "$ceiling"); quiet_rps=$(rps "$quiet")
floor_rps=$(rps "$floor")
thr_ratio=$(ratio "$on_rps" "$ceiling_rps")
p99_ratio=$(ratio "$(field "$on" p99)" "$(field "$ceiling" p99)")
callers_rps=$(rps "$callers"); ceiling2_rps=$(rps "$ceiling2")
thr_ratio2=$(ratio "$callers_rps" "$ceiling2_rps")
p99_ratio2=$(ratio "$(field "$callers" p99)" "$(field "$ceiling2" p99)")
p999_refresh_ratio=$(ratio "$(field "$refreshing" p999)" "$(field "$steady" p999)")
refresh_errors=$(errors "$refreshing")
met() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN { ok = (op == ">=" ? v >= t : v <= t); print (ok ? "**met**" : "**not met**") }'; }
herd_verdict=$([ "$herd_max_per_env" = 1 ] && [ "$herd_min_per_env" = 1 ] && [ "$herd_envs_seen" = "$HERD_ENVIRONMENTS" ] \
    && echo "**met**" || echo "**not met**")
refresh_err_verdict=$([ "$refresh_errors" = 0 ] && echo "**met**" || echo "**not met**")
heap_verdict=$(met "$per_env_100" "<=" 50)
quick=""
if [ "$WRK_SECONDS" != 25 ] || [ "$REFRESH_SECONDS" != 90 ] || [ "$WRK_WARMUP_SECONDS" != 30 ]; then
    quick="> **Changed run** (WRK_SECONDS=$WRK_SECONDS, WRK_WARMUP_SECONDS=$WRK_WARMUP_SECONDS, REFRESH_SECONDS=$REFRESH_SECONDS): not the default settings."
fi
wrk_version=$( (wrk -v 2>&1 || true) | head -1 | awk '{ print $2 }')
java_version=$(java -version 2>&1 | head -1 | sed 's/"//g')

profile_section() {
    [ "$BENCH_PROFILE" = 1 ] || return 0
    printf '### Profile of figure 1 (BENCH_PROFILE=1)\n\n'
    printf 'JFR (settings=profile) on the default broker, %s s of the same load after the measured rounds (its cost\n' "$PROFILE_SECONDS"
    printf 'is in none of the figures above). Self: the family of the frame on the CPU (JDK collections, strings\n'
    printf 'and the like count for their caller); inclusive: the family anywhere in the stack.\n\n'
    printf '#### One caller\n\n%s\n\n#### 1,000 callers\n\n%s\n' "${profile_of[on]}" "${profile_of[callers]}"
}

row() { # label result
    printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$(rps "$2")" "$(ms "$(field "$2" p50)")" \
        "$(ms "$(field "$2" p99)")" "$(ms "$(field "$2" p999)")" "$(errors "$2")"
}

{
    cat <<EOF
# Benchmark results

Written by \`bench/run.sh\` on $(date -u +%Y-%m-%dT%H:%M:%SZ). Every figure below comes from this one run.
$quick

| machine | |
| --- | --- |
| cores | $(nproc) ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')) |
| memory | $(free -g | awk '/^Mem/ { print $2 }') GiB |
| Java | $java_version |
| Quarkus | 3.33.2 (broker, ceiling and framework floor) |
| wrk | $wrk_version, \`-t$WRK_THREADS -c$CONNECTIONS\`, on the same 2 cores as the server; figure 1: ${WRK_SECONDS} s per app after a ${WRK_WARMUP_SECONDS} s warm-up and a 5 s pass, in $ROUNDS rounds of ${slice} s taking turns; figure 3: after a $((2 * WRK_WARMUP_SECONDS)) s warm-up |
| JVM options | \`${JVM_OPTS[*]}\` for every app |
| run time | ${elapsed} s, builds included |
| load average (1, 5, 15 min) | at start $load_at_start; at end $load_at_end (the bench itself keeps about 2 busy; more means other work shared the cores) |

The broker runs its packaged jar in the \`prod\` profile: caller JWTs (RS256, 2048-bit key made at
run time) verified by quarkus-oidc against a JWKS on loopback, grants, audit (one JSON line per
request to stdout, written to a file), token cache, Vault and Azure AD stand-ins on loopback. In the
first load shape one caller drives the load, so its rate limit is lifted; in the second, 1,000
distinct callers (each its own JWT, taken round-robin by \`bench/wrk/callers.lua\`) share it under the
default rate limit. The ceiling app (\`bench/ceiling/\`) answers
the same request with a constant body of the broker's size ($ceiling_body_bytes bytes against the
broker's $body_bytes) on the event loop, with no authentication. The framework floor app
(\`bench/floor/\`) answers it as the ceiling does ($floor_body_bytes bytes) after the framework work the
broker's requirements force, and none of the broker's own: the bearer authenticated through Quarkus
security (a custom mechanism answering from a map, \`@Authenticated\`, proactive authentication off),
request-id filters, a \`String body\` parameter (to refuse a body), a \`CompletionStage\`, the broker's
headers; no JWT, grants, rate limit, token cache, audit line, metrics or MDC.

## 1. Cache-hit token throughput and latency, 64 connections

The six apps run side by side and take turns under wrk (the ceiling twice, once per load shape),
$ROUNDS rounds of ${slice} s each in rotating order, so that other work on the machine weighs on each
alike. Requests and errors are summed over the rounds; latencies are the median of the rounds'
percentiles (each round's p99 is listed below the table).

| endpoint | req/s | p50 ms | p99 ms | p99.9 ms | errors |
| --- | --- | --- | --- | --- | --- |
$(row "ceiling app, one caller's requests" "$ceiling")
$(row "framework floor (RESTEasy + Quarkus security, no broker work), one caller's requests" "$floor")
$(row "broker, one caller, verified-token cache on (default)" "$on")
$(row "broker, one caller, verified-token cache off" "$off")
$(row "broker, one caller, audit log off (to measure it; never in production)" "$quiet")
$(row "ceiling app, 1,000 callers' requests" "$ceiling2")
$(row "broker, 1,000 callers round-robin (default settings)" "$callers")

Each round's p99 in ms, in the order the rounds ran:
$(for app in ceiling floor on ceiling2 callers; do
    printf -- '- %s: %s\n' "${label_of[$app]}" "$(awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^p99=/) { sub(/^p99=/, "", $i); printf "%s%.2f", (NR > 1 ? ", " : ""), $i / 1000 } }' "$work/rounds-$app.txt")"
done)

- One caller: throughput, broker / ceiling: **$thr_ratio** (target ≥ 0.8): $(met "$thr_ratio" ">=" 0.8).
- One caller: p99, broker / ceiling: **$p99_ratio** (target ≤ 2): $(met "$p99_ratio" "<=" 2).
- 1,000 callers: throughput, broker / ceiling: **$thr_ratio2** (target ≥ 0.8): $(met "$thr_ratio2" ">=" 0.8).
- 1,000 callers: p99, broker / ceiling: **$p99_ratio2** (target ≤ 2): $(met "$p99_ratio2" "<=" 2).
- One caller: throughput, framework floor / ceiling: **$(ratio "$floor_rps" "$ceiling_rps")**: what the
  framework work the broker's requirements force leaves of the ceiling, before any broker code.
- One caller: throughput, broker / framework floor: **$(ratio "$on_rps" "$floor_rps")**: what the broker's
  own work leaves of the floor (p99 $(ratio "$(field "$on" p99)" "$(field "$floor" p99)")× the floor's).
- The verified-token cache: $(ratio "$on_rps" "$off_rps")× the throughput of verifying every request's
  signature ($(ratio "$off_rps" "$ceiling_rps") of the ceiling without it).
- The audit log (one JSON line per request): the broker with it serves $(ratio "$on_rps" "$quiet_rps") of
  the throughput of the same broker without it; $(awk -v a="$on_rps" -v b="$quiet_rps" \
      'BEGIN { if (a > 0 && b > 0) printf "%.1f", 1e6 / a - 1e6 / b; else print "n/a" }') µs more per request at saturation (the difference of 1 / req/s).

$(profile_section)

## 2. Cold herd

$HERD concurrent first requests on each of $HERD_ENVIRONMENTS cold environments, one environment after
the other ($herd_sent requests, warm-up off, Azure AD answering in 300 ms): $herd_ok answered 200, in
$herd_ms ms in all.

- Azure AD token requests: **$herd_total** in all, per environment min **$herd_min_per_env**, max
  **$herd_max_per_env** ($herd_envs_seen environments asked) (target exactly 1 per environment): $herd_verdict.

## 3. Refresh under load

Azure AD issues 30 s tokens (\`min-remaining=5S\`, \`clock-skew=1S\`, \`refresh-before=15S\`,
\`max-client-ttl=10S\`) to one broker; another, started first, holds an hour-long token and never
refreshes. They take turns under load at 64 connections, ${REFRESH_ROUNDS} rounds of ${refresh_slice} s each
(${REFRESH_SECONDS} s each in all); requests and errors are summed over the rounds, latencies are the
median of the rounds' percentiles, so that a stall of the machine weighs on one round, not on the
figure. Azure AD requests are each broker's own, from its metrics.

| run | req/s | p50 ms | p99 ms | p99.9 ms | errors | Azure AD requests |
| --- | --- | --- | --- | --- | --- | --- |
$(row "30 s tokens, refreshing" "$refreshing" | sed "s/|\$/| $refreshes |/")
$(row "no refresh" "$steady" | sed "s/|\$/| $steady_refreshes |/")

- Errors during refreshes: **$refresh_errors** (target 0): $refresh_err_verdict.
- p99.9 with refreshes / without: **$p999_refresh_ratio** (target ≤ 1.5): $(met "$p999_refresh_ratio" "<=" 1.5).

## 4. Scale in environments

Live heap after a full GC (\`jcmd GC.class_histogram\` total), each environment's token minted
(Azure AD tokens of 3599 s) and served once.

| environments | heap after GC | Azure AD requests at startup (warm-up) | warm-up: most at once, first to last | refreshes per hour | refresh period s | next refreshes spread over | most refreshes due in any 10 s |
| --- | --- | --- | --- | --- | --- | --- | --- |
EOF
    for n in 1 10 100; do
        printf '| %s | %s KiB | %s | %s, %s ms | %s | %s | %s s | %s |\n' "$n" "$((heap[$n] / 1024))" \
            "${warmup_requests[$n]}" "${warmup_in_flight[$n]}" "${warmup_span[$n]}" "$(sched $n requests_per_hour)" "$(sched $n refresh_period_s)" "$(sched $n next_refreshes_span_s)" \
            "$(sched $n max_refreshes_in_any_10s)"
    done
    cat <<EOF

- Heap per environment: **$per_env_100 KiB** from 1 to 100 environments ($per_env_10 KiB from 1 to 10)
  (target ≤ 50 KB): $heap_verdict.
- Azure AD requests per hour, from each environment's refresh schedule: one per environment per
  refresh period (about 50 minutes of a 60-minute token). The warm-up mints the environments
  \`broker.token.warm-up-concurrency\` (4) at a time, Azure AD answering in 100 ms here; from then on
  each refresh is moved earlier at random by up to 5 % of its period, so refreshes that started
  together spread over minutes and drift further apart with every cycle.

## 5. Startup and memory (JVM)

| app | ready after | Quarkus "started in" | RSS idle | RSS after load |
| --- | --- | --- | --- | --- |
| broker | $broker_ready_ms ms (\`/q/health/ready\` UP) | ${broker_started_s} s | $((broker_rss_idle / 1024)) MiB | $((broker_rss_load / 1024)) MiB |
| ceiling | $ceiling_ready_ms ms (first 200) | ${ceiling_started_s} s | $((ceiling_rss_idle / 1024)) MiB | $((ceiling_rss_load / 1024)) MiB |

- Broker / ceiling: startup $(ratio "$broker_ready_ms" "$ceiling_ready_ms")×, RSS after load $(ratio "$broker_rss_load" "$ceiling_rss_load")×.
EOF
} >"$work/RESULTS.generated.md"

# a hand-written section at the end of RESULTS.md (from the line "## Notes") is kept across runs
if [ -f "$here/RESULTS.md" ] && grep -q '^## Notes' "$here/RESULTS.md"; then
    { echo; sed -n '/^## Notes/,$p' "$here/RESULTS.md"; } >>"$work/RESULTS.generated.md"
fi
cp "$work/RESULTS.generated.md" "$here/RESULTS.md"
cat "$here/RESULTS.md"
bench_ok=1
say "done in ${elapsed} s; written to bench/RESULTS.md (raw wrk output in $work)"
