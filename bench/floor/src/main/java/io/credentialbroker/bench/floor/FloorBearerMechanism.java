package io.credentialbroker.bench.floor;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

import jakarta.inject.Singleton;

import io.quarkus.security.identity.IdentityProviderManager;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.identity.request.AuthenticationRequest;
import io.quarkus.security.identity.request.TokenAuthenticationRequest;
import io.quarkus.security.runtime.QuarkusPrincipal;
import io.quarkus.security.runtime.QuarkusSecurityIdentity;
import io.quarkus.vertx.http.runtime.security.ChallengeData;
import io.quarkus.vertx.http.runtime.security.HttpAuthenticationMechanism;
import io.quarkus.vertx.http.runtime.security.HttpCredentialTransport;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;

/**
 * Recognises a bearer as the broker's mechanism recognises a verified token, minus the verification:
 * the first request with a bearer makes its identity (a principal, no roles, no attributes), every
 * later one is answered with it from a map keyed by the bearer itself. Any bearer is accepted: this
 * app listens on loopback for the bench only.
 */
@Singleton
public class FloorBearerMechanism implements HttpAuthenticationMechanism {

    private static final String SCHEME = "Bearer ";
    private static final String CALLER = "system:serviceaccount:bench:load";
    private static final HttpCredentialTransport TRANSPORT = new HttpCredentialTransport(
            HttpCredentialTransport.Type.AUTHORIZATION, "bearer");

    private final ConcurrentMap<String, SecurityIdentity> known = new ConcurrentHashMap<>();

    @Override
    public Uni<SecurityIdentity> authenticate(RoutingContext context, IdentityProviderManager identityProviderManager) {
        String authorization = context.request().getHeader(HttpHeaders.AUTHORIZATION);
        if (authorization == null || authorization.length() <= SCHEME.length()
                || !authorization.regionMatches(true, 0, SCHEME, 0, SCHEME.length())) {
            return Uni.createFrom().nullItem();
        }
        String bearer = authorization.substring(SCHEME.length()).strip();
        SecurityIdentity identity = known.get(bearer);
        if (identity == null) {
            identity = QuarkusSecurityIdentity.builder().setPrincipal(new QuarkusPrincipal(CALLER)).build();
            SecurityIdentity earlier = known.putIfAbsent(bearer, identity);
            identity = earlier == null ? identity : earlier;
        }
        return Uni.createFrom().item(identity);
    }

    @Override
    public Uni<ChallengeData> getChallenge(RoutingContext context) {
        return Uni.createFrom().item(new ChallengeData(401, "WWW-Authenticate", "Bearer"));
    }

    @Override
    public Set<Class<? extends AuthenticationRequest>> getCredentialTypes() {
        return Set.of(TokenAuthenticationRequest.class);
    }

    @Override
    public Uni<HttpCredentialTransport> getCredentialTransport(RoutingContext context) {
        return Uni.createFrom().item(TRANSPORT);
    }
}
