package io.credentialbroker.api;

import java.time.Instant;

import io.credentialbroker.environment.Environment;
import io.credentialbroker.token.TokenGrant;

/**
 * The token endpoint's answer, labelled with its environment so a caller can check it got what it
 * asked for.
 */
public record TokenResponse(String environment, String tokenType, String accessToken, long expiresIn,
        Instant expiresAt, String resource, int credentialVersion) {

    static TokenResponse of(Environment environment, TokenGrant grant) {
        return new TokenResponse(environment.name(), "Bearer", grant.token().value(), grant.expiresIn().getSeconds(),
                grant.expiresAt(), environment.resource(), grant.token().credentialVersion());
    }

    @Override
    public String toString() {
        return "TokenResponse[environment=" + environment + ", fingerprint="
                + io.credentialbroker.token.AccessToken.fingerprint(accessToken) + "]";
    }
}
