#!/usr/bin/env bash
# Lets one credential-broker deployment log in to Vault with its Kubernetes identity, and read only
# the environments it serves: writes one policy per environment (that environment's exact KV v2
# paths, nothing else), a policy to renew the broker's own Vault token, and one Kubernetes auth role
# bound to the deployment's ServiceAccount, namespace and token audience, holding exactly those
# policies. For a Vault operator, with the `vault` CLI logged in (VAULT_ADDR, and a token in the
# CLI's token helper or VAULT_TOKEN) with rights on sys/policy and auth/<mount>. Takes no secret.
#
#   deploy/vault/setup-kubernetes-auth.sh ENVIRONMENT[=VAULT_PATH]...
#
#   deploy/vault/setup-kubernetes-auth.sh sandbox primary                 # deploy/production
#   ROLE=credential-broker-sandbox NAMESPACE=credential-broker-sandbox \
#       deploy/vault/setup-kubernetes-auth.sh sandbox                     # deploy/sandbox-only
#
# An environment's Vault path is PATH_PREFIX/<environment> unless given (the chart's
# environments.<name>.vaultPath). Settings (environment variables), defaults matching the chart and
# deploy/production:
#   ROLE=credential-broker            vault.kubernetesAuth.role: one role per deployment
#   NAMESPACE=credential-broker       the release namespace
#   SERVICE_ACCOUNT=credential-broker serviceAccount.name (default: the release's full name)
#   AUDIENCE=vault                    vault.kubernetesAuth.audience
#   AUTH_MOUNT=kubernetes             vault.kubernetesAuth.mountPath
#   KV_MOUNT=secret                   vault.kvMount
#   PATH_PREFIX=partner-center        where the credentials live below the mount
#   POLICY_PREFIX=credential-broker   policies are <prefix>-<environment> and <prefix>-token
#   TOKEN_TTL=4h                      Vault token lifetime; keep it above the broker's
#                                     quarkus.vault.renew-grace-period (1h by default)
#   KUBERNETES_HOST=                  when set, also (re)configures the auth method with this API
#                                     server URL (Vault running in the cluster; see README.md)
#   DRY_RUN=DIR                       call no vault: write the policies to DIR/policies/<name>.hcl
#                                     and the role's settings to DIR/roles/<role>, one key=value a
#                                     line (deploy/check.sh reads them)
set -euo pipefail

ROLE="${ROLE:-credential-broker}"
NAMESPACE="${NAMESPACE:-credential-broker}"
SERVICE_ACCOUNT="${SERVICE_ACCOUNT:-credential-broker}"
AUDIENCE="${AUDIENCE:-vault}"
AUTH_MOUNT="${AUTH_MOUNT:-kubernetes}"
KV_MOUNT="${KV_MOUNT:-secret}"
PATH_PREFIX="${PATH_PREFIX:-partner-center}"
POLICY_PREFIX="${POLICY_PREFIX:-credential-broker}"
TOKEN_TTL="${TOKEN_TTL:-4h}"
DRY_RUN="${DRY_RUN:-}"

die() { echo "setup-kubernetes-auth.sh: $*" >&2; exit 1; }
[ "$#" -gt 0 ] || die "name the environments this deployment serves, e.g. sandbox primary (its role gets only their policies)"
name_re='^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'
path_re='^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$'
for arg in "$KV_MOUNT" "$PATH_PREFIX"; do [[ "$arg" =~ $path_re ]] || die "'$arg' is not a plain Vault path"; done
if [ -z "$DRY_RUN" ]; then
    command -v vault >/dev/null 2>&1 || die "the vault CLI is not on PATH"
fi

# policy ENVIRONMENT PATH: the HCL of one environment's policy, exact paths only
policy() {
    local env="$1" path="$2" mount="$KV_MOUNT"
    cat <<HCL
# credential-broker, environment '$env': its credential at $mount/$path and nothing else.
# Written by deploy/vault/setup-kubernetes-auth.sh; a role gets this policy only if its deployment
# serves '$env'.

# The credential: read any version, write a new one (a rotation). update, not create: the credential
# is seeded first (seed-credentials.sh), so the broker never creates it. Every write is
# check-and-set: the broker sends options.cas, and the metadata has cas_required=true.
path "$mount/data/$path" {
  capabilities = ["read", "update"]
}

# current_version and the version history: replicas notice a rotation stored elsewhere.
path "$mount/metadata/$path" {
  capabilities = ["read"]
}

# For the app+user token feature being built: the environment's app+user refresh token lives at
# $path/app-user. create as well, because the secret does not exist until an admin agent's first
# consent installs it; update for each write-back of the rotated refresh token.
path "$mount/data/$path/app-user" {
  capabilities = ["create", "read", "update"]
}
path "$mount/metadata/$path/app-user" {
  capabilities = ["create", "read", "update"]
}

# Rotation records beside the credential (any replica answers and cancels a rotation): one secret
# per rotation and an index, under $path/rotations/; create for a new rotation, update for its
# progress, and delete on the metadata to drop records past their retention.
path "$mount/data/$path/rotations/*" {
  capabilities = ["create", "read", "update"]
}
path "$mount/metadata/$path/rotations/*" {
  capabilities = ["read", "delete"]
}
HCL
}

# The role keeps none of Vault's default policy (token_no_default_policy), so the one thing of it the
# broker uses is granted here: quarkus-vault renews its login token (auth/token/renew-self).
token_policy() {
    cat <<'HCL'
# credential-broker: renew its own Vault token, nothing else (its roles have no default policy).
path "auth/token/renew-self" {
  capabilities = ["update"]
}
HCL
}

declare -a names=() policies=()
declare -A texts=()
token_name="$POLICY_PREFIX-token"
texts[$token_name]="$(token_policy)"
policies+=("$token_name")
for arg in "$@"; do
    env="${arg%%=*}"
    path="$PATH_PREFIX/$env"
    [ "$arg" = "$env" ] || path="${arg#*=}"
    [[ "$env" =~ $name_re ]] || die "'$env' is not an environment name"
    [[ "$path" =~ $path_re ]] || die "$env: '$path' is not a plain Vault path (no wildcards)"
    name="$POLICY_PREFIX-$env"
    [ -z "${texts[$name]:-}" ] || die "$env is named twice"
    texts[$name]="$(policy "$env" "$path")"
    names+=("$env")
    policies+=("$name")
done
joined="$(IFS=,; echo "${policies[*]}")"

# The role: bound to one ServiceAccount in one namespace and to the audience of the broker's
# projected token. Its identity alias is the ServiceAccount's UID, so a ServiceAccount deleted and
# recreated under the same name is a new identity in Vault; and it holds only the policies above.
role_settings=(
    "bound_service_account_names=$SERVICE_ACCOUNT"
    "bound_service_account_namespaces=$NAMESPACE"
    "audience=$AUDIENCE"
    "alias_name_source=serviceaccount_uid"
    "token_policies=$joined"
    "token_no_default_policy=true"
    "token_ttl=$TOKEN_TTL"
    "token_max_ttl=$TOKEN_TTL"
    "token_type=service"
)

if [ -n "$DRY_RUN" ]; then
    mkdir -p "$DRY_RUN/policies" "$DRY_RUN/roles"
    for name in "${policies[@]}"; do printf '%s\n' "${texts[$name]}" >"$DRY_RUN/policies/$name.hcl"; done
    printf '%s\n' "${role_settings[@]}" >"$DRY_RUN/roles/$ROLE"
    echo "dry run: wrote ${#policies[@]} policies to $DRY_RUN/policies and role $ROLE ($joined) to $DRY_RUN/roles"
    exit 0
fi

if ! vault auth list -format=json | grep -q "\"$AUTH_MOUNT/\""; then
    echo "enabling the Kubernetes auth method at auth/$AUTH_MOUNT"
    vault auth enable -path="$AUTH_MOUNT" kubernetes
fi
if [ -n "${KUBERNETES_HOST:-}" ]; then
    # Vault inside the cluster reviews tokens with its own service account (which needs the
    # system:auth-delegator ClusterRole) and the CA it finds in its pod.
    vault write "auth/$AUTH_MOUNT/config" kubernetes_host="$KUBERNETES_HOST"
fi
for name in "${policies[@]}"; do
    echo "writing policy $name"
    printf '%s\n' "${texts[$name]}" | vault policy write "$name" -
done
echo "writing role auth/$AUTH_MOUNT/role/$ROLE for $NAMESPACE/$SERVICE_ACCOUNT, audience $AUDIENCE: policies $joined"
vault write "auth/$AUTH_MOUNT/role/$ROLE" "${role_settings[@]}"
echo "done: pods of $NAMESPACE/$SERVICE_ACCOUNT presenting a token with audience $AUDIENCE read ${names[*]} and nothing else"
