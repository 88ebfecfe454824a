package io.credentialbroker.credential.vault;

import java.util.Objects;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;

import io.quarkus.vault.client.auth.VaultAuthRequest;
import io.quarkus.vault.client.auth.VaultToken;
import io.quarkus.vault.client.auth.VaultTokenProvider;

/**
 * Hands quarkus-vault's client the caching provider's tokens marked as fresh, so that the client
 * never answers a 403 by itself with a new login: quarkus-vault 4.7.0 does that for any 403 on a
 * token from its cache (case 3 needs a policy refusal to cost no login). The store then decides: a
 * new login only when Vault says the token itself is invalid (case 2), through
 * {@link #invalidateCache()}.
 *
 * <p>
 * The copy counts its own uses: for a token limited to a number of uses, the cache's count no
 * longer goes down, and when Vault refuses the spent token as invalid the store logs in again. The
 * broker's roles issue tokens without a use limit.
 */
final class DecidingTokenProvider implements VaultTokenProvider {

    private final VaultTokenProvider cache;
    /**
     * Whether the last token handed out came from the cache: only such a token is worth a new login.
     */
    private volatile boolean lastFromCache;

    DecidingTokenProvider(VaultTokenProvider cache) {
        this.cache = Objects.requireNonNull(cache, "cache");
    }

    @Override
    public CompletionStage<VaultToken> apply(VaultAuthRequest request) {
        return cache.apply(request).thenApply(this::fresh);
    }

    /**
     * Whether a refusal of the token may be cured by logging in again: the token was one the cache
     * kept, as quarkus-vault itself decided (a token just obtained, or a static one, is not).
     */
    boolean lastTokenWasCached() {
        return lastFromCache;
    }

    @Override
    public void invalidateCache() {
        cache.invalidateCache();
    }

    private VaultToken fresh(VaultToken token) {
        lastFromCache = token != null && token.isFromCache();
        if (!lastFromCache) {
            return token;
        }
        return new VaultToken(token.getClientToken(), token.isRenewable(), token.getLeaseDuration(),
                token.getCreated(), false, new AtomicInteger(token.getAllowedUsesRemaining()),
                token.getInstantSource());
    }
}
