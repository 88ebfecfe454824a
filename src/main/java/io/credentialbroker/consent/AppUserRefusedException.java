package io.credentialbroker.consent;

import java.util.List;
import java.util.Objects;

/**
 * A change to an environment's app+user consent that was refused: nothing was stored. The message
 * says why in the broker's words and never holds a token, a code or a verifier.
 */
public class AppUserRefusedException extends RuntimeException {

    /** Why, as a stable code. */
    public enum Reason {

        /** No refresh token, or a blank one. */
        REFRESH_TOKEN_MISSING(422, "refresh_token_missing"),
        /** Longer than any refresh token Entra issues. */
        REFRESH_TOKEN_TOO_LARGE(422, "refresh_token_too_large"),
        /** Azure AD refused the grant (invalid_grant, interaction_required). */
        GRANT_REFUSED(422, "refresh_token_refused"),
        /** The grant's user signed in without MFA, which the environment requires. */
        MFA_REQUIRED(422, "mfa_required"),
        /** The token came from another tenant than the environment's pin. */
        TENANT_MISMATCH(422, "tenant_mismatch"),
        /** Azure AD issued a token too short-lived to hand out. */
        TOKEN_LIFETIME_TOO_SHORT(422, "token_lifetime_too_short"),
        /** Azure AD returned no refresh token: the app did not ask for offline_access. */
        NO_REFRESH_TOKEN(422, "no_refresh_token"),
        /** If-Match names another version than the record's current one. */
        STALE_VERSION(412, "stale_version"),
        /** Another writer stored first while the grant was being proved. */
        VERSION_CONFLICT(412, "version_conflict"),
        /** Retiring a consent when none is installed. */
        NOT_INSTALLED(409, "app_user_not_installed");

        private final int status;
        private final String code;

        Reason(int status, String code) {
            this.status = status;
            this.code = code;
        }

        public int status() {
            return status;
        }

        public String code() {
            return code;
        }
    }

    private final Reason reason;
    private final String environment;
    private final List<Integer> azureAdErrorCodes;

    public AppUserRefusedException(Reason reason, String environment, String message, List<Integer> azureAdErrorCodes) {
        super(message, null, false, false);
        this.reason = Objects.requireNonNull(reason, "reason");
        this.environment = environment;
        this.azureAdErrorCodes = List.copyOf(azureAdErrorCodes);
    }

    public AppUserRefusedException(Reason reason, String environment, String message) {
        this(reason, environment, message, List.of());
    }

    public Reason reason() {
        return reason;
    }

    public String environment() {
        return environment;
    }

    /** The AADSTS codes behind a refusal by Azure AD. */
    public List<Integer> azureAdErrorCodes() {
        return azureAdErrorCodes;
    }
}
