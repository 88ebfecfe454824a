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
 * fingerprint, never the token. A value (equal by its fields); a class rather than a record only so
 * that the fingerprint is computed once, when the token is minted, not for every caller it is
 * handed to.
 */
public final class AccessToken {

    private final String value;
    private final String environment;
    private final int credentialVersion;
    private final Instant issuedAt;
    private final Instant expiresAt;
    private final Instant refreshAt;
    private final String fingerprint;

    /**
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
    public AccessToken(String value, String environment, int credentialVersion, Instant issuedAt, Instant expiresAt,
            Instant refreshAt) {
        this.value = Objects.requireNonNull(value, "value");
        this.environment = Objects.requireNonNull(environment, "environment");
        this.credentialVersion = credentialVersion;
        this.issuedAt = Objects.requireNonNull(issuedAt, "issuedAt");
        this.expiresAt = Objects.requireNonNull(expiresAt, "expiresAt");
        this.refreshAt = Objects.requireNonNull(refreshAt, "refreshAt");
        this.fingerprint = fingerprint(value);
    }

    /** The bearer token. */
    public String value() {
        return value;
    }

    /** The environment it was minted for. */
    public String environment() {
        return environment;
    }

    /** The Vault version of the credential that minted it. */
    public int credentialVersion() {
        return credentialVersion;
    }

    /** When the request for it was sent. */
    public Instant issuedAt() {
        return issuedAt;
    }

    /** When Azure AD stops accepting it. */
    public Instant expiresAt() {
        return expiresAt;
    }

    /** When the cache should start replacing it. */
    public Instant refreshAt() {
        return refreshAt;
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
        return fingerprint;
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
    public boolean equals(Object other) {
        return other instanceof AccessToken token && value.equals(token.value) && environment.equals(token.environment)
                && credentialVersion == token.credentialVersion && issuedAt.equals(token.issuedAt)
                && expiresAt.equals(token.expiresAt) && refreshAt.equals(token.refreshAt);
    }

    @Override
    public int hashCode() {
        return Objects.hash(value, environment, credentialVersion, issuedAt, expiresAt, refreshAt);
    }

    @Override
    public String toString() {
        return "AccessToken[environment=" + environment + ", fingerprint=" + fingerprint + ", credentialVersion="
                + credentialVersion + ", expiresAt=" + expiresAt + ", refreshAt=" + refreshAt + "]";
    }
}
