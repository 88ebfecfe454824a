package io.credentialbroker.credential;

import java.time.Instant;
import java.util.Objects;

/**
 * The Azure AD app credential of one Partner Center account, as one version of its Vault secret
 * holds it. The secret redacts itself, so this record's {@code toString()} is safe to log.
 *
 * @param clientId
 *            the app (client) ID
 * @param clientSecret
 *            the key
 * @param domain
 *            the tenant domain (or tenant ID) the token endpoint is addressed with
 * @param version
 *            the KV v2 version this was read from
 * @param createdTime
 *            when that version was written
 */
public record PartnerCredential(String clientId, ClientSecret clientSecret, String domain, int version,
        Instant createdTime) {

    public PartnerCredential {
        Objects.requireNonNull(clientId, "clientId");
        Objects.requireNonNull(clientSecret, "clientSecret");
        Objects.requireNonNull(domain, "domain");
    }

    /**
     * Whether both would send Azure AD the same request: same app, key and tenant, whatever their
     * versions.
     */
    public boolean sameKeyAs(PartnerCredential other) {
        return clientId.equals(other.clientId) && clientSecret.equals(other.clientSecret)
                && domain.equals(other.domain);
    }
}
