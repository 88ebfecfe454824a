package io.credentialbroker.credential;

import java.time.Instant;
import java.util.Objects;
import java.util.regex.Pattern;

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

    private static final String DNS_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";

    /** A tenant domain: two or more DNS labels of letters, digits and inner hyphens, dot-separated. */
    private static final Pattern TENANT_DOMAIN = Pattern
            .compile("(?=.{1,253}$)" + DNS_LABEL + "(?:\\." + DNS_LABEL + ")+");

    /** A GUID, as Azure AD writes app (client) IDs and tenant IDs. */
    private static final Pattern GUID = Pattern.compile(
            "[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}");

    public PartnerCredential {
        Objects.requireNonNull(clientId, "clientId");
        Objects.requireNonNull(clientSecret, "clientSecret");
        Objects.requireNonNull(domain, "domain");
    }

    /**
     * A credential not stored yet, for a rotation to prove against Azure AD before it is written: no
     * version, no creation time.
     */
    public static PartnerCredential candidate(String clientId, ClientSecret clientSecret, String domain) {
        return new PartnerCredential(clientId, clientSecret, domain, 0, null);
    }

    /** The same key material with no version, to store again as a new version (a rollback). */
    public PartnerCredential asCandidate() {
        return candidate(clientId, clientSecret, domain);
    }

    /**
     * Whether {@code domain} can address a token endpoint: a tenant domain (letters, digits and inner
     * hyphens in two or more dot-separated labels) or a tenant ID. It goes into the endpoint's path.
     */
    public static boolean isTenant(String domain) {
        return domain != null && (TENANT_DOMAIN.matcher(domain).matches() || GUID.matcher(domain).matches());
    }

    /** Whether {@code clientId} is an Azure AD app (client) ID: a GUID. */
    public static boolean isClientId(String clientId) {
        return clientId != null && GUID.matcher(clientId).matches();
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
