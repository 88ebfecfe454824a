package io.credentialbroker.bench.floor;

import jakarta.inject.Singleton;

import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.identity.AuthenticationRequestContext;
import io.quarkus.security.identity.IdentityProvider;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.identity.request.TokenAuthenticationRequest;
import io.smallrye.mutiny.Uni;

/**
 * Quarkus refuses to run a mechanism whose credential type no identity provider takes. In the broker
 * quarkus-oidc's provider verifies a bearer its cache does not know; here {@link FloorBearerMechanism}
 * never hands a bearer on, so this provider is never asked, and would refuse.
 */
@Singleton
public class UnverifiedTokens implements IdentityProvider<TokenAuthenticationRequest> {

    @Override
    public Class<TokenAuthenticationRequest> getRequestType() {
        return TokenAuthenticationRequest.class;
    }

    @Override
    public Uni<SecurityIdentity> authenticate(TokenAuthenticationRequest request,
            AuthenticationRequestContext context) {
        return Uni.createFrom().failure(new AuthenticationFailedException());
    }
}
