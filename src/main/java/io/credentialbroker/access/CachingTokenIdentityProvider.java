package io.credentialbroker.access;

import java.time.Clock;
import java.time.Instant;

import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import org.eclipse.microprofile.jwt.JsonWebToken;
import org.jboss.logging.Logger;

import io.credentialbroker.config.BrokerConfig;
import io.quarkus.oidc.runtime.OidcIdentityProvider;
import io.quarkus.security.identity.AuthenticationRequestContext;
import io.quarkus.security.identity.IdentityProvider;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.identity.request.TokenAuthenticationRequest;
import io.quarkus.security.runtime.QuarkusSecurityIdentity;
import io.smallrye.mutiny.Uni;

/**
 * Verifies a caller's bearer JWT once and then recognises it (through
 * {@link CachedBearerMechanism}) by its SHA-256 until the token's own {@code exp}, and for at most
 * {@code broker.auth.verified-token-cache.max-age}: checking an RS256 signature costs several times
 * more than everything else the token endpoint does (bench/RESULTS.md). On a miss, quarkus-oidc
 * verifies the token exactly as it would without this cache (signature, issuer, audience, expiry);
 * only a token it accepted is remembered, never a failure, and never past its {@code exp}, whatever
 * quarkus-oidc's lifespan grace allows.
 *
 * <p>
 * What is remembered is what authorization needs and nothing more: an identity whose principal is
 * the {@link Caller} the token names, with no roles, credentials or attributes. Neither the raw JWT
 * nor its claims are kept, and the same identity serves every request that presents the token.
 *
 * <p>
 * The trade-off: a token verified once stays accepted until its expiry or max-age even if the
 * issuer rotates or withdraws its signing key in the meantime, which quarkus-oidc alone would
 * notice at the next JWKS refresh. Max-age bounds that window (default 5 minutes) whatever lifetime
 * the issuer gives its tokens. Turn the cache off with
 * {@code broker.auth.verified-token-cache.enabled=false} to have every request verified.
 *
 * <p>
 * Runs before quarkus-oidc's own provider: {@link OidcIdentityProvider} keeps the default priority
 * of {@link IdentityProvider#priority()} (1001 in Quarkus 3.33), and this one answers
 * {@value #PRIORITY}.
 */
@Singleton
public class CachingTokenIdentityProvider implements IdentityProvider<TokenAuthenticationRequest> {

    static final int PRIORITY = 2000;

    private static final Logger LOG = Logger.getLogger(CachingTokenIdentityProvider.class);

    private final OidcIdentityProvider oidc;
    private final Callers callers;
    /** Null when the cache is off. */
    private final VerifiedTokenCache<SecurityIdentity> cache;

    @Inject
    CachingTokenIdentityProvider(OidcIdentityProvider oidc, Callers callers, BrokerConfig config, Clock clock) {
        this.oidc = oidc;
        this.callers = callers;
        BrokerConfig.VerifiedTokenCacheConfig settings = config.auth().verifiedTokenCache();
        // quarkus-oidc checks exp against the system clock, so the cache does too; the age is the
        // broker's clock's (the same in production, ticked in tests)
        this.cache = settings.enabled()
                ? new VerifiedTokenCache<>(settings.maxEntries(), settings.maxAge(), Clock.systemUTC(), clock)
                : null;
        LOG.debugf("Verified caller token cache: %s", settings.enabled()
                ? "on, at most " + settings.maxEntries() + " tokens, each for at most " + settings.maxAge()
                : "off");
    }

    @Override
    public Class<TokenAuthenticationRequest> getRequestType() {
        return TokenAuthenticationRequest.class;
    }

    @Override
    public int priority() {
        return PRIORITY;
    }

    @Override
    public Uni<SecurityIdentity> authenticate(TokenAuthenticationRequest request,
            AuthenticationRequestContext context) {
        if (cache == null) {
            return oidc.authenticate(request, context);
        }
        // CachedBearerMechanism looked the token up already: this is a miss, to verify and remember
        String token = request.getToken().getToken();
        return oidc.authenticate(request, context).invoke(identity -> remember(token, identity));
    }

    /**
     * The identity remembered for this bearer token, if it was verified and is still recognised
     * (counted as a hit); null otherwise (counted as a miss: quarkus-oidc will verify it).
     */
    SecurityIdentity recognise(String token) {
        return cache == null ? null : cache.get(token).orElse(null);
    }

    /** Whether the cache is on; for tests and the bench. */
    boolean enabled() {
        return cache != null;
    }

    /** Requests answered from the cache. */
    long hits() {
        return cache == null ? 0 : cache.hits();
    }

    /** Requests whose token was not recognised, so that quarkus-oidc verified it. */
    long verifications() {
        return cache == null ? 0 : cache.misses();
    }

    /** The identity remembered for this token, if any; for tests. */
    java.util.Optional<SecurityIdentity> remembered(String token) {
        return cache == null ? java.util.Optional.empty() : cache.peek(token);
    }

    long size() {
        return cache == null ? 0 : cache.size();
    }

    private void remember(String token, SecurityIdentity identity) {
        if (identity == null || identity.isAnonymous()
                || !(identity.getPrincipal() instanceof JsonWebToken jwt) || jwt.getExpirationTime() <= 0) {
            return;
        }
        Caller caller = callers.of(jwt);
        if (caller == null) {
            return; // no caller to name: refused on every request, verified every time
        }
        cache.put(token, QuarkusSecurityIdentity.builder().setPrincipal(caller).build(),
                Instant.ofEpochSecond(jwt.getExpirationTime()));
    }
}
