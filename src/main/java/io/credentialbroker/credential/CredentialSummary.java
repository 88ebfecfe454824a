package io.credentialbroker.credential;

import java.time.Instant;

/**
 * What operators may see of one stored version of a credential: everything but the secret, of which
 * only a hint (its first three characters) is shown.
 *
 * @param version
 *            the store version
 * @param createdTime
 *            when it was written, if known
 * @param clientId
 *            the app (client) ID; null if the version is not usable
 * @param domain
 *            the tenant; null if the version is not usable
 * @param secretHint
 *            the secret's first three characters and an ellipsis; null if the version is not usable
 * @param usable
 *            false if what is stored at this version is not a credential (a field missing or
 *            malformed)
 */
public record CredentialSummary(int version, Instant createdTime, String clientId, String domain, String secretHint,
        boolean usable) {

    public static CredentialSummary of(PartnerCredential credential) {
        return new CredentialSummary(credential.version(), credential.createdTime(), credential.clientId(),
                credential.domain(), credential.clientSecret().hint(), true);
    }

    public static CredentialSummary unusable(int version, Instant createdTime) {
        return new CredentialSummary(version, createdTime, null, null, null, false);
    }
}
