#!/usr/bin/env bash
# Lets credential-broker log in to Vault with its Kubernetes identity: writes the policy and a
# Kubernetes auth role bound to the broker's ServiceAccount, namespace and token audience.
# For a Vault operator, with the `vault` CLI logged in (VAULT_ADDR, and a token in the CLI's
# token helper or VAULT_TOKEN) with rights on sys/policy and auth/<mount>/role. Takes no secret.
#
#   deploy/vault/setup-kubernetes-auth.sh                       # the chart's defaults
#   ROLE=credential-broker-sandbox NAMESPACE=credential-broker-sandbox deploy/vault/setup-kubernetes-auth.sh
#
# Settings (environment variables), defaults matching the chart and deploy/production:
#   ROLE=credential-broker            vault.kubernetesAuth.role
#   NAMESPACE=credential-broker       the release namespace
#   SERVICE_ACCOUNT=credential-broker serviceAccount.name (default: the release's full name)
#   AUDIENCE=vault                    vault.kubernetesAuth.audience
#   AUTH_MOUNT=kubernetes             vault.kubernetesAuth.mountPath
#   KV_MOUNT=secret                   vault.kvMount
#   POLICY=credential-broker          the policy's name
#   TOKEN_TTL=4h                      Vault token lifetime; keep it above the broker's
#                                     quarkus.vault.renew-grace-period (1h by default)
#   KUBERNETES_HOST=                  when set, also (re)configures the auth method with this API
#                                     server URL (Vault running in the cluster; see README.md)
set -euo pipefail

ROLE="${ROLE:-credential-broker}"
NAMESPACE="${NAMESPACE:-credential-broker}"
SERVICE_ACCOUNT="${SERVICE_ACCOUNT:-credential-broker}"
AUDIENCE="${AUDIENCE:-vault}"
AUTH_MOUNT="${AUTH_MOUNT:-kubernetes}"
KV_MOUNT="${KV_MOUNT:-secret}"
POLICY="${POLICY:-credential-broker}"
TOKEN_TTL="${TOKEN_TTL:-4h}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

command -v vault >/dev/null 2>&1 || { echo "setup-kubernetes-auth.sh: the vault CLI is not on PATH" >&2; exit 1; }

if ! vault auth list -format=json | grep -q "\"$AUTH_MOUNT/\""; then
    echo "enabling the Kubernetes auth method at auth/$AUTH_MOUNT"
    vault auth enable -path="$AUTH_MOUNT" kubernetes
fi
if [ -n "${KUBERNETES_HOST:-}" ]; then
    # Vault inside the cluster reviews tokens with its own service account (which needs the
    # system:auth-delegator ClusterRole) and the CA it finds in its pod.
    vault write "auth/$AUTH_MOUNT/config" kubernetes_host="$KUBERNETES_HOST"
fi

echo "writing policy $POLICY (KV v2 mount $KV_MOUNT)"
sed "s|\"secret/|\"$KV_MOUNT/|" "$here/credential-broker-policy.hcl" | vault policy write "$POLICY" -

echo "writing role auth/$AUTH_MOUNT/role/$ROLE for $NAMESPACE/$SERVICE_ACCOUNT, audience $AUDIENCE"
vault write "auth/$AUTH_MOUNT/role/$ROLE" \
    bound_service_account_names="$SERVICE_ACCOUNT" \
    bound_service_account_namespaces="$NAMESPACE" \
    audience="$AUDIENCE" \
    alias_name_source=serviceaccount_name \
    token_policies="$POLICY" \
    token_ttl="$TOKEN_TTL" \
    token_max_ttl="$TOKEN_TTL" \
    token_type=service

echo "done: pods of $NAMESPACE/$SERVICE_ACCOUNT presenting a token with audience $AUDIENCE get policy $POLICY"
