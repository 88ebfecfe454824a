package io.credentialbroker.credential;

import io.credentialbroker.environment.Environment;

/**
 * Where environments' credentials live: Vault KV v2 in production, memory in the {@code dev}
 * profile. Calls block for at most the store's configured timeouts.
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
}
