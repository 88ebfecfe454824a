package io.credentialbroker.consent;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A consent that cannot start, or a callback the broker will not act on: nothing was asked of Azure
 * AD and nothing was stored. The message is the broker's own sentence; it never holds the state,
 * the authorization code, the PKCE verifier, nor Azure AD's {@code error_description}.
 */
public class ConsentRejectedException extends RuntimeException {

    /**
     * The shape of an OAuth 2.0 error code (RFC 6749, section 4.1.2.1: {@code access_denied},
     * {@code consent_required}, ...). Anything else Azure AD's {@code error} parameter holds is not
     * repeated.
     */
    private static final Pattern OAUTH_ERROR = Pattern.compile("[a-z][a-z_]{0,63}");

    /** Why, with the HTTP status the edge answers. */
    public enum Reason {

        /** Unknown, already used or expired {@code state}: a replay, a stale tab, or a forgery. */
        STATE_INVALID(400),
        /** Azure AD sent the browser back with {@code error} instead of a code. */
        CONSENT_FAILED(400),
        /** Neither a code nor an error came back with a valid state. */
        CODE_MISSING(400),
        /**
         * The environment's token endpoint has no authorize endpoint beside it (a proxy of another shape).
         */
        NO_AUTHORIZE_ENDPOINT(422);

        private final int status;

        Reason(int status) {
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    private final Reason reason;
    private final String code;
    private final String environment;

    private ConsentRejectedException(Reason reason, String code, String environment, String message) {
        super(message, null, false, false);
        this.reason = Objects.requireNonNull(reason, "reason");
        this.code = Objects.requireNonNull(code, "code");
        this.environment = environment;
    }

    static ConsentRejectedException invalidState() {
        return new ConsentRejectedException(Reason.STATE_INVALID, "consent_state_invalid", null,
                "This consent link is unknown, was already used, or has expired; nothing was stored. Start the"
                        + " consent again (GET /v1/environments/{env}/app-user/consent), on the same replica.");
    }

    /**
     * Azure AD's {@code error}, as the problem's code when it has the shape of one, else
     * {@code consent_failed}; its description is never repeated (it may quote the request).
     */
    static ConsentRejectedException failed(String environment, String azureAdError) {
        String code = azureAdError != null && OAUTH_ERROR.matcher(azureAdError).matches()
                ? azureAdError
                : "consent_failed";
        return new ConsentRejectedException(Reason.CONSENT_FAILED, code, environment,
                "Azure AD did not grant the consent for environment '" + environment + "' (" + code
                        + "); nothing was stored. Start the consent again; the admin agent must accept it.");
    }

    static ConsentRejectedException codeMissing(String environment) {
        return new ConsentRejectedException(Reason.CODE_MISSING, "authorization_code_missing", environment,
                "The callback for environment '" + environment + "' carried no authorization code; nothing was"
                        + " stored. Start the consent again.");
    }

    static ConsentRejectedException noAuthorizeEndpoint(String environment) {
        return new ConsentRejectedException(Reason.NO_AUTHORIZE_ENDPOINT, "authorize_endpoint_unknown", environment,
                "Environment '" + environment + "''s token endpoint does not end in /token, so the broker cannot"
                        + " tell where its authorize endpoint is; install a refresh token with PUT .../app-user.");
    }

    public Reason reason() {
        return reason;
    }

    /** The stable code a problem answer carries. */
    public String code() {
        return code;
    }

    /** The environment concerned, when the state named one. */
    public String environment() {
        return environment;
    }
}
