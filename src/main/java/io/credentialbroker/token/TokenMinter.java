package io.credentialbroker.token;

import io.credentialbroker.credential.PartnerCredential;
import io.credentialbroker.environment.Environment;

/**
 * Asks Azure AD for an app-only token with the client-credentials grant. One call is one request:
 * retries, caching and backoff belong to {@link TokenCache}.
 */
public interface TokenMinter {

    /**
     * Requests a token for the environment's resource with the given credential. Blocks for at most the
     * minter's connect and read timeouts; never throws for an upstream failure, which comes back as
     * {@link MintResult.Failed}.
     */
    MintResult mint(Environment environment, PartnerCredential credential);
}
