package io.credentialbroker.access;

import java.util.Set;

import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import io.quarkus.oidc.runtime.OidcAuthenticationMechanism;
import io.quarkus.security.identity.IdentityProviderManager;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.identity.request.AuthenticationRequest;
import io.quarkus.security.identity.request.TokenAuthenticationRequest;
import io.quarkus.vertx.http.runtime.security.ChallengeData;
import io.quarkus.vertx.http.runtime.security.HttpAuthenticationMechanism;
import io.quarkus.vertx.http.runtime.security.HttpCredentialTransport;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;

/**
 * Answers a request whose bearer token is in the verified-token cache with the identity remembered
 * for it, before quarkus-oidc's mechanism sees the request; any other request (no bearer, a token
 * not verified yet or no longer recognised, the cache off) it leaves to quarkus-oidc, which
 * verifies the token and, through {@link CachingTokenIdentityProvider}, remembers it.
 *
 * <p>
 * Why a mechanism and not only an identity provider: quarkus-oidc's bearer mechanism decodes the
 * JWT's payload (JSON) to build its credential and resolves the tenant on every request, before any
 * identity provider is asked, which cost more than a cache hit itself (bench/RESULTS.md). A hit
 * needs none of that: the token was verified when it entered the cache.
 */
@Singleton
public class CachedBearerMechanism implements HttpAuthenticationMechanism {

    /** Ahead of quarkus-oidc's mechanism (the default priority, 1000). */
    static final int PRIORITY = 2000;
    private static final String SCHEME = "Bearer ";
    private static final HttpCredentialTransport TRANSPORT = new HttpCredentialTransport(
            HttpCredentialTransport.Type.AUTHORIZATION, "bearer");

    private final CachingTokenIdentityProvider verified;
    private final OidcAuthenticationMechanism oidc;

    @Inject
    CachedBearerMechanism(CachingTokenIdentityProvider verified, OidcAuthenticationMechanism oidc) {
        this.verified = verified;
        this.oidc = oidc;
    }

    @Override
    public Uni<SecurityIdentity> authenticate(RoutingContext context, IdentityProviderManager identityProviderManager) {
        String authorization = context.request().getHeader(HttpHeaders.AUTHORIZATION);
        if (authorization == null || authorization.length() <= SCHEME.length()
                || !authorization.regionMatches(true, 0, SCHEME, 0, SCHEME.length())) {
            return Uni.createFrom().nullItem();
        }
        SecurityIdentity identity = verified.recognise(authorization.substring(SCHEME.length()).strip());
        return identity == null ? Uni.createFrom().nullItem() : Uni.createFrom().item(identity);
    }

    @Override
    public Uni<ChallengeData> getChallenge(RoutingContext context) {
        return oidc.getChallenge(context);
    }

    @Override
    public Set<Class<? extends AuthenticationRequest>> getCredentialTypes() {
        return Set.of(TokenAuthenticationRequest.class);
    }

    @Override
    public Uni<HttpCredentialTransport> getCredentialTransport(RoutingContext context) {
        return Uni.createFrom().item(TRANSPORT);
    }

    @Override
    public int getPriority() {
        return PRIORITY;
    }
}
