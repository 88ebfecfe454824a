package io.credentialbroker.token;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import io.credentialbroker.credential.CredentialStoreException;

/**
 * Why the last attempt to get a token for an environment failed, in stable terms: callers, probes
 * and metrics see {@link Reason#code()}, never an upstream's free text.
 *
 * @param reason
 *            what went wrong
 * @param at
 *            when it was recorded
 * @param httpStatus
 *            the upstream's HTTP status, 0 when none arrived
 * @param errorCodes
 *            Azure AD's AADSTS codes, if it sent any
 * @param traceId
 *            Azure AD's trace id, for a support request
 * @param correlationId
 *            Azure AD's correlation id, for a support request
 * @param retryAfter
 *            how long the upstream asked us to stay away, if it did
 */
public record TokenFailure(Reason reason, Instant at, int httpStatus, List<Integer> errorCodes, String traceId,
        String correlationId, Optional<Duration> retryAfter) {

    /** Stable reasons; the codes are part of the HTTP contract. */
    public enum Reason {

        AZURE_AD_UNAVAILABLE("azure_ad_unavailable"),
        AZURE_AD_THROTTLED("azure_ad_throttled"),
        CREDENTIAL_INVALID("credential_invalid"),
        /** AADSTS7000222: ops must rotate the key. */
        CREDENTIAL_EXPIRED("credential_expired"),
        /** Azure AD does not know the app or the tenant in this cloud: a configuration error. */
        AZURE_AD_REJECTED_CONFIGURATION("azure_ad_rejected_configuration"),
        TOKEN_LIFETIME_TOO_SHORT("token_lifetime_too_short"),
        VAULT_UNAVAILABLE("vault_unavailable"),
        VAULT_PERMISSION_DENIED("vault_permission_denied"),
        /** Nothing at the environment's Vault path. */
        ENVIRONMENT_NOT_CONFIGURED("environment_not_configured"),
        CREDENTIAL_MALFORMED("credential_malformed"),
        /**
         * The token Azure AD issued comes from another tenant than the environment's pin: the credential
         * stored for it belongs to another account.
         */
        TENANT_MISMATCH("tenant_mismatch"),
        /**
         * App+user: no refresh token is installed, or Azure AD refused it (docs/upstream-behaviour.md,
         * "App+user tokens (Secure Application Model)"); an admin agent must consent again.
         */
        CONSENT_REQUIRED("consent_required"),
        /** App+user: the token's user signed in without multifactor authentication, which is required. */
        MFA_REQUIRED("mfa_required"),
        /** The caller stopped waiting while a token was still being minted. */
        MINT_IN_PROGRESS("mint_in_progress"),
        INTERNAL_ERROR("internal_error");

        private final String code;

        Reason(String code) {
            this.code = code;
        }

        public String code() {
            return code;
        }

        /** Failures that only another credential version can end, so waiting out a backoff is pointless. */
        public boolean isCuredByNewCredential() {
            return switch (this) {
                case CREDENTIAL_INVALID, CREDENTIAL_EXPIRED, AZURE_AD_REJECTED_CONFIGURATION, TENANT_MISMATCH,
                        CREDENTIAL_MALFORMED, ENVIRONMENT_NOT_CONFIGURED ->
                    true;
                default -> false;
            };
        }

        /** How a failed token request to Azure AD is reported (docs/upstream-behaviour.md). */
        public static Reason forAzureAd(MintResult.FailureKind kind) {
            return switch (kind) {
                case CREDENTIAL_INVALID -> CREDENTIAL_INVALID;
                case CREDENTIAL_EXPIRED -> CREDENTIAL_EXPIRED;
                case CONFIGURATION -> AZURE_AD_REJECTED_CONFIGURATION;
                case THROTTLED -> AZURE_AD_THROTTLED;
                case TRANSIENT -> AZURE_AD_UNAVAILABLE;
                case TENANT_MISMATCH -> TENANT_MISMATCH;
                case GRANT_INVALID -> CONSENT_REQUIRED;
            };
        }
    }

    public TokenFailure {
        errorCodes = List.copyOf(errorCodes);
    }

    public static TokenFailure of(Reason reason, Instant at) {
        return new TokenFailure(reason, at, 0, List.of(), null, null, Optional.empty());
    }

    public static TokenFailure fromAzureAd(MintResult.Failed failed, Instant at) {
        Reason reason = Reason.forAzureAd(failed.kind());
        return new TokenFailure(reason, at, failed.httpStatus(), failed.errorCodes(), failed.traceId(),
                failed.correlationId(), failed.retryAfter());
    }

    public static TokenFailure fromStore(CredentialStoreException e, Instant at) {
        Reason reason = switch (e.reason()) {
            case NOT_FOUND -> Reason.ENVIRONMENT_NOT_CONFIGURED;
            case PERMISSION_DENIED -> Reason.VAULT_PERMISSION_DENIED;
            case INVALID_CONTENT -> Reason.CREDENTIAL_MALFORMED;
            case UNAVAILABLE -> Reason.VAULT_UNAVAILABLE;
        };
        return of(reason, at);
    }
}
