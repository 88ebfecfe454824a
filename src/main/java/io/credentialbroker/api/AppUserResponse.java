package io.credentialbroker.api;

import java.time.Instant;
import java.time.temporal.ChronoUnit;

import io.credentialbroker.credential.AppUserConsent;
import io.credentialbroker.credential.AppUserConsents;

/**
 * An environment's app+user consent as ops see it: metadata only, never the refresh token.
 *
 * @param environment
 *            the environment
 * @param installed
 *            whether a consent is in force
 * @param version
 *            the record's version in Vault (0: nothing ever stored), as the ETag names it
 * @param user
 *            who consented (UPN), as the token named them
 * @param obtainedAt
 *            when the consent was installed
 * @param lastExchangedAt
 *            when its refresh token was last exchanged
 * @param inactivityExpiresAt
 *            when Entra would expire the refresh token if it were never exchanged again
 * @param mfa
 *            whether the last token said the user signed in with MFA
 * @param retiredAt
 *            when the consent was retired, if it was
 */
public record AppUserResponse(String environment, boolean installed, int version, String user, Instant obtainedAt,
        Instant lastExchangedAt, Instant inactivityExpiresAt, Boolean mfa, Instant retiredAt) {

    static AppUserResponse of(String environment, AppUserConsents.Current current) {
        if (current.consent().isEmpty()) {
            return new AppUserResponse(environment, false, current.version(), null, null, null, null, null,
                    current.retiredAt().map(AppUserResponse::seconds).orElse(null));
        }
        return of(environment, current.consent().get());
    }

    static AppUserResponse of(String environment, AppUserConsent consent) {
        return new AppUserResponse(environment, true, consent.version(), consent.user(), seconds(consent.obtainedAt()),
                seconds(consent.lastExchangedAt()), seconds(consent.inactivityExpiry()), consent.mfa(), null);
    }

    private static Instant seconds(Instant at) {
        return at.truncatedTo(ChronoUnit.SECONDS);
    }
}
