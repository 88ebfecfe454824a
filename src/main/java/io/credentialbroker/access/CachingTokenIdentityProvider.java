package io.credentialbroker.access;

import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.jwt.JsonWebToken;
import org.jboss.logging.Logger;

import io.credentialbroker.config.BrokerConfig;
import io.quarkus.oidc.runtime.OidcIdentityProvider;
import io.quarkus.oidc.runtime.OidcUtils;
import io.quarkus.security.identity.AuthenticationRequestContext;
import io.quarkus.security.identity.IdentityProvider;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.identity.request.TokenAuthenticationRequest;
import io.quarkus.security.runtime.QuarkusSecurityIdentity;
import io.quarkus.vertx.http.runtime.security.HttpSecurityUtils;
import io.smallrye.mutiny.Uni;
import io.vertx.ext.web.RoutingContext;

/**
 * Verifies a caller's bearer JWT once and then recognises it by its SHA-256 until the token's own
 * {@code exp}: checking an RS256 signature costs several times more than everything else the token
 * endpoint does (bench/RESULTS.md). On a miss, quarkus-oidc verifies the token exactly as it would
 * without this cache (signature, issuer, audience, expiry); only a token it accepted is remembered,
 * never a failure, and never past its {@code exp}, whatever quarkus-oidc's lifespan grace allows.
 *
 * <p>
 * The trade-off: a token verified once stays accepted until its expiry even if the issuer rotates
 * or withdraws its signing key in the meantime, which quarkus-oidc alone would notice at the next
 * JWKS refresh. Projected service-account tokens live at most an hour (the kubelet replaces them at
 * 80 % of that), so that window is bounded by what the cluster already accepts for the same token
 * elsewhere. Turn the cache off with {@code broker.auth.verified-token-cache.enabled=false} to have
 * every request verified.
 *
 * <p>
 * Runs before quarkus-oidc's own provider: {@link OidcIdentityProvider} keeps the default priority
 * of {@link IdentityProvider#priority()} (1001 in Quarkus 3.33), and this one answers
 * {@value #PRIORITY}.
 */
@ApplicationScoped
public class CachingTokenIdentityProvider implements IdentityProvider<TokenAuthenticationRequest> {

    static final int PRIORITY = 2000;

    private static final Logger LOG = Logger.getLogger(CachingTokenIdentityProvider.class);
    private static final String ROUTING_CONTEXT = RoutingContext.class.getName();
    private static final String BLOCKING_API = AuthenticationRequestContext.class.getName();

    private final OidcIdentityProvider oidc;
    /** Null when the cache is off. */
    private final VerifiedTokenCache<SecurityIdentity> cache;

    @Inject
    CachingTokenIdentityProvider(OidcIdentityProvider oidc, BrokerConfig config) {
        this.oidc = oidc;
        BrokerConfig.VerifiedTokenCacheConfig settings = config.auth().verifiedTokenCache();
        // quarkus-oidc checks expiry against the system clock, so this does too (not the broker's Clock bean)
        this.cache = settings.enabled() ? new VerifiedTokenCache<>(settings.maxEntries(), Clock.systemUTC()) : null;
        LOG.debugf("Verified caller token cache: %s", settings.enabled()
                ? "on, at most " + settings.maxEntries() + " tokens"
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
        String token = request.getToken().getToken();
        SecurityIdentity cached = cache.get(token).orElse(null);
        if (cached != null) {
            return Uni.createFrom().item(forThisRequest(cached, HttpSecurityUtils.getRoutingContextAttribute(request)));
        }
        return oidc.authenticate(request, context).invoke(identity -> remember(token, identity));
    }

    /** Whether the cache is on; for tests and the bench. */
    boolean enabled() {
        return cache != null;
    }

    /** Requests answered from the cache. */
    long hits() {
        return cache == null ? 0 : cache.hits();
    }

    /** Requests whose token quarkus-oidc verified because the cache did not hold it. */
    long verifications() {
        return cache == null ? 0 : cache.misses();
    }

    long size() {
        return cache == null ? 0 : cache.size();
    }

    private void remember(String token, SecurityIdentity identity) {
        if (identity == null || identity.isAnonymous()
                || !(identity.getPrincipal() instanceof JsonWebToken jwt) || jwt.getExpirationTime() <= 0) {
            return;
        }
        cache.put(token, detached(identity), Instant.ofEpochSecond(jwt.getExpirationTime()));
    }

    /**
     * The identity without the attributes that belong to the request that verified it (its routing
     * context, which would keep that request alive for as long as the entry lives).
     */
    private static SecurityIdentity detached(SecurityIdentity identity) {
        Map<String, Object> attributes = new HashMap<>(identity.getAttributes());
        attributes.remove(ROUTING_CONTEXT);
        attributes.remove(BLOCKING_API);
        return QuarkusSecurityIdentity.builder().setPrincipal(identity.getPrincipal())
                .addCredentials(identity.getCredentials()).addRoles(identity.getRoles()).addAttributes(attributes)
                .build();
    }

    /**
     * The cached identity with the current request's attributes, as quarkus-oidc would have set them.
     */
    private static SecurityIdentity forThisRequest(SecurityIdentity cached, RoutingContext routing) {
        if (routing == null) {
            return cached;
        }
        QuarkusSecurityIdentity.Builder builder = QuarkusSecurityIdentity.builder(cached);
        OidcUtils.setRoutingContextAttribute(builder, routing);
        OidcUtils.setBlockingApiAttribute(builder, routing);
        return builder.build();
    }
}
