package io.credentialbroker.token;

import io.credentialbroker.credential.PartnerCredential;
import io.credentialbroker.environment.Environment;

/**
 * Asks Azure AD for tokens: app-only ones with the client-credentials grant, and app+user ones by
 * exchanging what a person granted. One call is one request: retries, caching and backoff belong to
 * the caches.
 */
public interface TokenMinter {

    /**
     * Requests a token for the environment's resource with the given credential. Blocks for at most the
     * minter's connect and read timeouts; never throws for an upstream failure, which comes back as
     * {@link MintResult.Failed}.
     */
    MintResult mint(Environment environment, PartnerCredential credential);

    /**
     * Exchanges a person's grant (a refresh token, or a consent's authorization code) for an app+user
     * token for the environment's resource, authenticating with the app's credential. A success carries
     * the new refresh token Azure AD returns with every exchange. Blocks and fails as {@link #mint}; a
     * grant Azure AD refuses is {@link MintResult.FailureKind#GRANT_INVALID}.
     */
    default MintResult exchange(Environment environment, PartnerCredential credential, UserGrant grant) {
        return MintResult.Failed.withoutBody(MintResult.FailureKind.CONFIGURATION, 0, "user_grants_unsupported");
    }
}
