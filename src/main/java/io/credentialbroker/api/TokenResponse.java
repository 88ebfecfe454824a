package io.credentialbroker.api;

import java.time.Instant;

import io.credentialbroker.environment.Environment;
import io.credentialbroker.token.TokenGrant;

/**
 * The token endpoint's answer, labelled with its environment so a caller can check it got what it
 * asked for.
 */
public record TokenResponse(String environment, String kind, String tokenType, String accessToken, long expiresIn,
        Instant expiresAt, String resource, int credentialVersion) {

    /** {@link #kind()} of an app-only token. */
    public static final String APP = "app";
    /** {@link #kind()} of an app+user token, which acts as the admin agent who consented. */
    public static final String APP_USER = "app+user";

    static TokenResponse of(Environment environment, String kind, TokenGrant grant) {
        return new TokenResponse(environment.name(), kind, "Bearer", grant.token().value(),
                grant.expiresIn().getSeconds(), grant.expiresAt(), environment.resource(),
                grant.token().credentialVersion());
    }

    @Override
    public String toString() {
        return "TokenResponse[environment=" + environment + ", kind=" + kind + ", fingerprint="
                + io.credentialbroker.token.AccessToken.fingerprint(accessToken) + "]";
    }
}
