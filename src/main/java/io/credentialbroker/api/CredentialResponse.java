package io.credentialbroker.api;

import java.time.Instant;

import io.credentialbroker.credential.CredentialSummary;

/**
 * An environment's current credential as operators see it: never the secret, only its first three
 * characters.
 */
public record CredentialResponse(String environment, String clientId, String domain, int version,
        Instant createdTime, String secretHint) {

    static CredentialResponse of(String environment, CredentialSummary summary) {
        return new CredentialResponse(environment, summary.clientId(), summary.domain(), summary.version(),
                summary.createdTime(), summary.secretHint());
    }
}
