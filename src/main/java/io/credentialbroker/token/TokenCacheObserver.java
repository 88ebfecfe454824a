package io.credentialbroker.token;

import java.time.Duration;

/**
 * Told what each token cache does, for metrics. Calls come from the hot path and the mint threads:
 * implementations must be cheap and must never block or throw.
 */
public interface TokenCacheObserver {

    /** Does nothing: for caches nobody watches. */
    TokenCacheObserver NONE = new TokenCacheObserver() {
    };

    /** A caller was handed the cached token without waiting for Azure AD. */
    default void servedFromCache(String environment) {
    }

    /** A mint ended without a token for callers, for this reason. */
    default void mintFailed(String environment, TokenFailure.Reason reason) {
    }

    /** An app+user exchange ended without a token for callers, for this reason. */
    default void appUserMintFailed(String environment, TokenFailure.Reason reason) {
    }

    /** One request to Azure AD ended, well or badly, after {@code took}. */
    default void azureAdAnswered(String environment, MintResult result, Duration took) {
    }
}
