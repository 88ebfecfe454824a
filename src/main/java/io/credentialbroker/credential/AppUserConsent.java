package io.credentialbroker.credential;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * The app+user grant of one environment as stored at {@code <vault-path>/app-user}: the refresh
 * token an admin agent's consent produced (or the last exchange returned), who consented, and when
 * (docs/upstream-behaviour.md, "App+user tokens (Secure Application Model)"). {@code toString()}
 * never shows the refresh token.
 *
 * @param version
 *            the record's version in the store, 0 for one not stored yet
 * @param refreshToken
 *            the refresh token to exchange next
 * @param user
 *            the consenting user's name (UPN), as the first exchange's token named it
 * @param consentId
 *            names one consent: every write-back of its refresh token keeps it, a new consent gets
 *            a new one, so a replica can tell a rival's write-back from a re-consent
 * @param obtainedAt
 *            when the consent was installed
 * @param lastExchangedAt
 *            when its refresh token was last exchanged (Entra's 90-day inactivity clock restarts
 *            then)
 * @param mfa
 *            whether the last exchange's token says the user signed in with multifactor
 *            authentication
 */
public record AppUserConsent(int version, String refreshToken, String user, String consentId, Instant obtainedAt,
        Instant lastExchangedAt, boolean mfa) {

    /**
     * Entra expires a confidential client's refresh token after this long unused
     * (docs/upstream-behaviour.md).
     */
    public static final Duration INACTIVITY_LIFETIME = Duration.ofDays(90);

    public AppUserConsent {
        Objects.requireNonNull(refreshToken, "refreshToken");
        Objects.requireNonNull(consentId, "consentId");
        Objects.requireNonNull(obtainedAt, "obtainedAt");
        Objects.requireNonNull(lastExchangedAt, "lastExchangedAt");
    }

    /** The consenting user, if the token named one. */
    public Optional<String> userName() {
        return Optional.ofNullable(user);
    }

    /** When Entra would expire the refresh token if it were not exchanged again. */
    public Instant inactivityExpiry() {
        return lastExchangedAt.plus(INACTIVITY_LIFETIME);
    }

    /** The same consent after an exchange at {@code at} that returned {@code next}. */
    public AppUserConsent exchanged(String next, Instant at, boolean withMfa) {
        return new AppUserConsent(version, next, user, consentId, obtainedAt, at, withMfa);
    }

    /** Whether {@code other} is a write-back of the same consent (not a new one, nor a retirement). */
    public boolean sameConsentAs(AppUserConsent other) {
        return other != null && consentId.equals(other.consentId);
    }

    @Override
    public String toString() {
        return "AppUserConsent[version=" + version + ", refreshToken=redacted, user=" + user + ", consentId="
                + consentId + ", obtainedAt=" + obtainedAt + ", lastExchangedAt=" + lastExchangedAt + ", mfa=" + mfa
                + "]";
    }
}
