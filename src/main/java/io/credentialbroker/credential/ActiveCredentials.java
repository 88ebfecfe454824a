package io.credentialbroker.credential;

import java.util.Optional;

/**
 * The credential each environment's tokens are minted with: what a rotation switches after storing
 * a new version, and what the watch compares with the store's current version. Implemented by the
 * token service.
 */
public interface ActiveCredentials {

    /**
     * The store version of the credential in use for the environment, empty before it was first read.
     */
    Optional<Integer> activeVersion(String environment);

    /**
     * Mints the environment's next tokens with {@code credential}, which the store holds as its current
     * version. Tokens already handed out, and the cached one, stay valid: an Azure AD token outlives
     * the key that minted it.
     */
    void activate(String environment, PartnerCredential credential);
}
