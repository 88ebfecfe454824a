# Vault policy for credential-broker: its Partner Center credentials and nothing else.
# Written for a KV v2 engine mounted at `secret` (broker.vault.kv-mount); setup-kubernetes-auth.sh
# rewrites the mount when yours differs. No delete, destroy or list: the broker never needs them.

# Read a credential (current or an older version) and write a new version. Writes are
# check-and-set: the broker always sends options.cas with the version it read, and the secrets'
# metadata has cas_required=true (seed-credentials.sh sets it), so Vault refuses a write without it.
path "secret/data/partner-center/*" {
  capabilities = ["read", "create", "update"]
}

# current_version and the version history, to notice a rotation by another replica.
path "secret/metadata/partner-center/*" {
  capabilities = ["read"]
}
