package io.credentialbroker.credential;

import java.util.Objects;

/**
 * A credential store could not give a usable credential. The message names the environment and the
 * reason, never a secret or the store's raw answer.
 */
public class CredentialStoreException extends RuntimeException {

    /** Why the read failed, in terms a caller can act on. */
    public enum Reason {

        /**
         * Nothing stored at the environment's path: the environment is not configured. For a read of one
         * version: that version does not exist (never written, or fallen away past {@code max_versions}).
         */
        NOT_FOUND(false, "environment_not_configured"),
        /** The store refused the broker's identity (Vault 403), or refused the request as malformed. */
        PERMISSION_DENIED(false, "vault_permission_denied"),
        /**
         * What is stored is not a credential: a field is missing, empty or malformed, or it was deleted.
         */
        INVALID_CONTENT(false, "credential_malformed"),
        /** The store is sealed, down, slow or answered something unreadable; worth retrying later. */
        UNAVAILABLE(true, "vault_unavailable");

        private final boolean transientFailure;
        private final String code;

        Reason(boolean transientFailure, String code) {
            this.transientFailure = transientFailure;
            this.code = code;
        }

        public boolean isTransient() {
            return transientFailure;
        }

        /** The stable code callers and audit events see, as in the HTTP contract's problem codes. */
        public String code() {
            return code;
        }
    }

    private final Reason reason;
    private final String environment;
    private boolean retryable;
    private boolean outcomeUnknown;

    public CredentialStoreException(Reason reason, String environment, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
        this.environment = environment;
    }

    public CredentialStoreException(Reason reason, String environment, String message) {
        this(reason, environment, message, null);
    }

    /**
     * A failure the store answered with a status that says "try again shortly" (Vault: 412, 429, 5xx
     * but 501): worth a bounded, jittered retry at once, unlike a timeout or a refusal.
     */
    public static CredentialStoreException retryable(String environment, String message) {
        CredentialStoreException e = new CredentialStoreException(Reason.UNAVAILABLE, environment, message);
        e.retryable = true;
        return e;
    }

    /**
     * A write whose answer was lost (a timeout, a connection closed after the request went out, an
     * answer not understood): it may or may not have been stored. Only reading the store tells.
     */
    public static CredentialStoreException outcomeUnknown(String environment, String message) {
        CredentialStoreException e = new CredentialStoreException(Reason.UNAVAILABLE, environment, message);
        e.outcomeUnknown = true;
        return e;
    }

    /** Whether the write this failure is about may have been stored all the same. */
    public boolean isOutcomeUnknown() {
        return outcomeUnknown;
    }

    public boolean isRetryable() {
        return retryable;
    }

    public Reason reason() {
        return reason;
    }

    public String environment() {
        return environment;
    }
}
