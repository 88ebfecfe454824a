package io.credentialbroker.credential;

import java.util.Map;
import java.util.Optional;

import io.credentialbroker.environment.Environment;

/**
 * Small versioned records an environment keeps beside its credential, each a secret of its own at
 * {@code <vault-path>/<name>} (the app+user refresh token at {@code app-user}): their own version
 * numbers, so writing one never contends with a key rotation. Every write is a check-and-set on the
 * version the writer read, exactly as for the credential. Values are strings; what they mean is the
 * business of the flow that owns the record.
 */
public interface EnvironmentRecords {

    /**
     * The record's current version, or empty if nothing was ever written at {@code name}. A current
     * version that was deleted comes back with its version number and no fields, so a writer can
     * check-and-set over it.
     *
     * @param name
     *            the record's path below the environment's Vault path: lowercase letters, digits and
     *            hyphens, in segments separated by {@code /}
     * @throws CredentialStoreException
     *             when it cannot be read (never with a value in its message)
     */
    Optional<StoredRecord> readRecord(Environment environment, String name);

    /**
     * Stores {@code fields} as the record's new current version, if and only if {@code expectedVersion}
     * is still the current one; 0 means "only if nothing was ever written there".
     *
     * @return the record as stored, with its new version number
     * @throws CredentialVersionConflictException
     *             if another writer changed the record since {@code expectedVersion}; nothing was
     *             written
     * @throws CredentialStoreException
     *             if the store could not be written; after a lost answer
     *             ({@link CredentialStoreException#isOutcomeUnknown()}) only a read tells whether it
     *             was
     */
    StoredRecord writeRecord(Environment environment, String name, Map<String, String> fields, int expectedVersion);

    /**
     * Removes the record {@code name} with every version and its history (KV v2's metadata delete), for
     * a flow that keeps its records bounded. Removing a record that does not exist is no failure.
     *
     * @throws CredentialStoreException
     *             if the store could not be asked, or refused; the record may still be there
     */
    void deleteRecord(Environment environment, String name);

    /** Checks a record's name: one or more segments of lowercase letters, digits and hyphens. */
    static String requireValidName(String name) {
        if (name == null || !name.matches("[a-z0-9][a-z0-9-]*(/[a-z0-9][a-z0-9-]*)*")) {
            throw new IllegalArgumentException("not a record name: segments of lowercase letters, digits and hyphens");
        }
        return name;
    }
}
