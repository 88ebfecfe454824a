package io.credentialbroker.credential;

/**
 * Told about calls to the credential store and about finished rotations, for metrics. Must be cheap
 * and must never throw.
 */
public interface CredentialObserver {

    /** Does nothing: for stores and services nobody watches. */
    CredentialObserver NONE = new CredentialObserver() {
    };

    /**
     * One call to the store ended: {@code operation} read, write or metadata; {@code outcome} a stable
     * word.
     */
    default void storeCalled(String operation, String outcome) {
    }

    /** A rotation or restore ended: succeeded, failed, rejected or cancelled. */
    default void rotationFinished(String environment, String outcome) {
    }
}
