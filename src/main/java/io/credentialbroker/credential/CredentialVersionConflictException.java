package io.credentialbroker.credential;

/**
 * A check-and-set write named a version that is no longer current: another writer (another replica,
 * an operator with the Vault CLI) changed the credential, or a record beside it, first. Nothing was
 * written.
 */
public class CredentialVersionConflictException extends RuntimeException {

    private final String environment;
    private final int expectedVersion;

    public CredentialVersionConflictException(String environment, int expectedVersion) {
        this(environment, "the credential", expectedVersion);
    }

    /**
     * @param what
     *            what was to be written, e.g. {@code "the record app-user"}
     */
    public CredentialVersionConflictException(String environment, String what, int expectedVersion) {
        super(what + " of environment '" + environment + "' is no longer at version " + expectedVersion
                + ": another writer changed it first; nothing was written", null, false, false);
        this.environment = environment;
        this.expectedVersion = expectedVersion;
    }

    public String environment() {
        return environment;
    }

    public int expectedVersion() {
        return expectedVersion;
    }
}
