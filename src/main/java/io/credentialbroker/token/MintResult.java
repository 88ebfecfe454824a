package io.credentialbroker.token;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** What one token request to Azure AD gave: a grant, or a failure the cache can act on. */
public sealed interface MintResult {

    /**
     * Azure AD issued a token.
     *
     * @param accessToken
     *            the token; never logged, only fingerprinted
     * @param expiresIn
     *            its lifetime from when the request was sent
     * @param refreshIn
     *            when Azure AD suggests refreshing it, if it said
     * @param refreshToken
     *            the new refresh token an app+user exchange returns; empty for app-only tokens
     */
    record Issued(String accessToken, Duration expiresIn, Optional<Duration> refreshIn,
            Optional<String> refreshToken) implements MintResult {

        public Issued {
            Objects.requireNonNull(accessToken, "accessToken");
            Objects.requireNonNull(expiresIn, "expiresIn");
            Objects.requireNonNull(refreshIn, "refreshIn");
            Objects.requireNonNull(refreshToken, "refreshToken");
        }

        /** An app-only token: no refresh token. */
        public Issued(String accessToken, Duration expiresIn, Optional<Duration> refreshIn) {
            this(accessToken, expiresIn, refreshIn, Optional.empty());
        }

        @Override
        public String toString() {
            return "Issued[accessToken=redacted, expiresIn=" + expiresIn + ", refreshIn=" + refreshIn
                    + (refreshToken.isPresent() ? ", refreshToken=redacted" : "") + "]";
        }
    }

    /**
     * Azure AD refused, failed, or could not be reached.
     *
     * @param kind
     *            what the cache should do about it
     * @param httpStatus
     *            the HTTP status, or 0 when no response arrived
     * @param error
     *            Azure AD's {@code error} field, or a broker code such as {@code timeout} when there
     *            was none
     * @param errorCodes
     *            Azure AD's {@code error_codes} (AADSTS numbers), possibly empty
     * @param traceId
     *            Azure AD's {@code trace_id}, for support requests
     * @param correlationId
     *            Azure AD's {@code correlation_id}, for support requests
     * @param retryAfter
     *            the {@code Retry-After} Azure AD asked for, if any
     */
    record Failed(FailureKind kind, int httpStatus, String error, List<Integer> errorCodes, String traceId,
            String correlationId, Optional<Duration> retryAfter) implements MintResult {

        public Failed {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(error, "error");
            errorCodes = List.copyOf(errorCodes);
            Objects.requireNonNull(retryAfter, "retryAfter");
        }

        /** A failure with no Azure AD error body: a timeout, a reset, an unreadable answer. */
        public static Failed withoutBody(FailureKind kind, int httpStatus, String error) {
            return new Failed(kind, httpStatus, error, List.of(), null, null, Optional.empty());
        }

        /** The first AADSTS code, the most specific reason Azure AD gives. */
        public Optional<Integer> primaryErrorCode() {
            return errorCodes.stream().findFirst();
        }
    }

    /** How the cache treats a failure (docs/upstream-behaviour.md, "Azure AD responses"). */
    enum FailureKind {

        /** The key is wrong (AADSTS7000215) or otherwise refused: re-read Vault once, no retry. */
        CREDENTIAL_INVALID,
        /** The key has expired (AADSTS7000222): re-read Vault once, no retry; ops must rotate. */
        CREDENTIAL_EXPIRED,
        /** App not in tenant, tenant not found, wrong cloud, bad request: no retry, fix configuration. */
        CONFIGURATION,
        /** 429: wait for {@code Retry-After} before asking this tenant again. */
        THROTTLED,
        /** 5xx, timeouts, resets, unreadable answers: retry with jittered backoff. */
        TRANSIENT,
        /**
         * Azure AD issued a token, but not from the tenant the environment is pinned to (or one whose
         * tenant cannot be read): the credential belongs to another account. No retry; ops must fix the
         * credential or the pin.
         */
        TENANT_MISMATCH,
        /**
         * Azure AD refused a person's grant ({@code invalid_grant} or {@code interaction_required}): the
         * refresh token expired through inactivity, was revoked, outlived a password change or an MFA
         * session, or was issued to another client. No retry; a person must consent again.
         */
        GRANT_INVALID;

        /** Failures a new credential from Vault might cure. */
        public boolean isCredentialProblem() {
            return this == CREDENTIAL_INVALID || this == CREDENTIAL_EXPIRED || this == CONFIGURATION;
        }
    }
}
