package io.credentialbroker.credential;

import java.util.Objects;

/**
 * A credential store could not give a usable credential. The message names the environment and the
 * reason, never a secret or the store's raw answer.
 */
public class CredentialStoreException extends RuntimeException {

    /** Why the read failed, in terms a caller can act on. */
    public enum Reason {

        /** Nothing stored at the environment's path: the environment is not configured. */
        NOT_FOUND(false),
        /** The store refused the broker's identity (Vault 403). */
        PERMISSION_DENIED(false),
        /** What is stored is not a credential: a field is missing, empty or malformed. */
        INVALID_CONTENT(false),
        /** The store is sealed, down, slow or answered something unreadable; worth retrying later. */
        UNAVAILABLE(true);

        private final boolean transientFailure;

        Reason(boolean transientFailure) {
            this.transientFailure = transientFailure;
        }

        public boolean isTransient() {
            return transientFailure;
        }
    }

    private final Reason reason;
    private final String environment;

    public CredentialStoreException(Reason reason, String environment, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
        this.environment = environment;
    }

    public CredentialStoreException(Reason reason, String environment, String message) {
        this(reason, environment, message, null);
    }

    public Reason reason() {
        return reason;
    }

    public String environment() {
        return environment;
    }
}
