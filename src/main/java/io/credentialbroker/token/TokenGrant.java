package io.credentialbroker.token;

import java.time.Duration;
import java.time.Instant;

/**
 * What a caller is handed: a cached token with the lifetime the caller may rely on, which is
 * shorter than the token's own (see {@link TokenLifetimePolicy#clientLifetime}).
 *
 * @param token
 *            the cached token
 * @param expiresIn
 *            how long the caller may use it
 * @param expiresAt
 *            {@code expiresIn} from the moment it was handed out
 */
public record TokenGrant(AccessToken token, Duration expiresIn, Instant expiresAt) {

    @Override
    public String toString() {
        return "TokenGrant[token=" + token + ", expiresIn=" + expiresIn + "]";
    }
}
