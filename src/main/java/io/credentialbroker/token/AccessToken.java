package io.credentialbroker.token;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Objects;

/**
 * A token Azure AD issued for one environment, with the times that govern it. Time is always passed
 * in, so tests drive expiry with a clock instead of sleeps. {@code toString()} shows the
 * fingerprint, never the token.
 *
 * @param value
 *            the bearer token
 * @param environment
 *            the environment it was minted for
 * @param credentialVersion
 *            the Vault version of the credential that minted it
 * @param issuedAt
 *            when the request for it was sent (its lifetime counts from there, to be safe)
 * @param expiresAt
 *            when Azure AD stops accepting it
 * @param refreshAt
 *            when the cache should start replacing it
 */
public record AccessToken(String value, String environment, int credentialVersion, Instant issuedAt,
        Instant expiresAt, Instant refreshAt) {

    public AccessToken {
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(environment, "environment");
        Objects.requireNonNull(issuedAt, "issuedAt");
        Objects.requireNonNull(expiresAt, "expiresAt");
        Objects.requireNonNull(refreshAt, "refreshAt");
    }

    /** Life left at {@code now}, negative once expired. */
    public Duration remaining(Instant now) {
        return Duration.between(now, expiresAt);
    }

    /** Whether at least {@code margin} of life is left at {@code now}. */
    public boolean isValidFor(Instant now, Duration margin) {
        return remaining(now).compareTo(margin) >= 0;
    }

    public boolean isRefreshDue(Instant now) {
        return !now.isBefore(refreshAt);
    }

    /** The first 12 hex characters of the token's SHA-256: how logs and audit events name a token. */
    public String fingerprint() {
        return fingerprint(value);
    }

    public static String fingerprint(String token) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java runtime", e);
        }
    }

    @Override
    public String toString() {
        return "AccessToken[environment=" + environment + ", fingerprint=" + fingerprint() + ", credentialVersion="
                + credentialVersion + ", expiresAt=" + expiresAt + ", refreshAt=" + refreshAt + "]";
    }
}
