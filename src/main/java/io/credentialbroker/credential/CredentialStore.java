package io.credentialbroker.credential;

import io.credentialbroker.environment.Environment;

/**
 * Where environments' credentials live: Vault KV v2 in production, memory in the {@code dev}
 * profile. Each environment's credential is a versioned secret; every write is a check-and-set on
 * the version the writer read, so of two concurrent writers exactly one wins. Calls block for at
 * most the store's configured timeouts.
 */
public interface CredentialStore {

    /**
     * The current version of the environment's credential.
     *
     * @throws CredentialStoreException
     *             when it cannot be read, or what is stored is not a usable credential (never with a
     *             secret in its message)
     */
    PartnerCredential read(Environment environment);

    /**
     * One version of the environment's credential, current or not.
     *
     * @throws CredentialStoreException
     *             {@link CredentialStoreException.Reason#NOT_FOUND} if there is no such version (never
     *             written, or fallen away past the store's version limit);
     *             {@link CredentialStoreException.Reason#INVALID_CONTENT} if it was deleted, destroyed
     *             or holds no usable credential; otherwise as {@link #read(Environment)}
     */
    PartnerCredential read(Environment environment, int version);

    /**
     * The secret's metadata: which version is current and which versions are kept. Reads no secret, so
     * it is the cheap way to notice that another writer changed the credential.
     *
     * @throws CredentialStoreException
     *             as {@link #read(Environment)}; {@link CredentialStoreException.Reason#NOT_FOUND} if
     *             nothing was ever stored
     */
    CredentialMetadata metadata(Environment environment);

    /**
     * Stores {@code candidate} (its {@code version} and {@code createdTime} are ignored) as the
     * environment's new current version, if and only if {@code expectedVersion} is still the current
     * one.
     *
     * @return the credential as stored, with its new version number and creation time
     * @throws CredentialVersionConflictException
     *             if another writer changed the credential since {@code expectedVersion}; nothing was
     *             written
     * @throws CredentialStoreException
     *             if the store could not be written; a store's write is all or nothing, but after a
     *             timeout the outcome is unknown ({@link #metadata} tells)
     */
    PartnerCredential write(Environment environment, PartnerCredential candidate, int expectedVersion);
}
