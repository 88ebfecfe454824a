package io.credentialbroker.access;

import static io.credentialbroker.testing.AzureAdStandIn.issued;
import static io.credentialbroker.testing.AzureAdStandIn.newToken;
import static io.credentialbroker.testing.AzureAdStandIn.tokenRequest;
import static io.credentialbroker.testing.Fixtures.SANDBOX;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import jakarta.inject.Inject;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import io.credentialbroker.testing.AzureAdStandInResource;
import io.credentialbroker.testing.CallerIssuer;
import io.credentialbroker.testing.CallerIssuerResource;
import io.credentialbroker.testing.Fixtures;
import io.credentialbroker.testing.StandInTest;
import io.credentialbroker.testing.VaultStandInResource;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.ValidatableResponse;

/**
 * The verified-token cache's cap on age and what it keeps, through the real HTTP stack: a token is
 * verified again once {@code broker.auth.verified-token-cache.max-age} (5 minutes by default) has
 * passed, however far off its {@code exp}; and the cache keeps the caller's name, not the JWT.
 */
@QuarkusTest
@WithTestResource(AzureAdStandInResource.class)
@WithTestResource(CallerIssuerResource.class)
@WithTestResource(VaultStandInResource.class)
class VerifiedTokenMaxAgeTest extends StandInTest {

    @Inject
    CachingTokenIdentityProvider provider;

    @BeforeEach
    void setUp() {
        CallerIssuerResource.actAsNobody();
        clock.moveToNewDay();
        azureAd.reset();
        Fixtures.seed(vault);
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(issued(newToken(SANDBOX, "sandbox"), 3600)));
    }

    @Test
    @DisplayName("a token valid for hours is verified again after max-age (5 minutes), not only at its exp")
    void verifiesAgainAfterMaxAgeWhateverTheExp() {
        String bearer = issuer.token(CallerIssuer.BILLING, claims -> claims.setExpirationTimeMinutesInTheFuture(180));
        long verifications = provider.verifications();
        as(bearer).statusCode(200);
        clock.advance(Duration.ofMinutes(4).plusSeconds(50));
        as(bearer).statusCode(200);
        assertThat(provider.verifications() - verifications).as("recognised within max-age").isEqualTo(1);

        clock.advance(Duration.ofSeconds(11));
        as(bearer).statusCode(200);
        assertThat(provider.verifications() - verifications).as("verified again past max-age").isEqualTo(2);
        as(bearer).statusCode(200);
        assertThat(provider.verifications() - verifications).as("and then recognised again").isEqualTo(2);
    }

    @Test
    @DisplayName("the cache keeps only the caller's name: no JWT, claims, credentials or request attributes")
    void keepsNoRawJwt() {
        String bearer = issuer.token(CallerIssuer.ORDERS);
        as(bearer).statusCode(200);

        SecurityIdentity cached = provider.remembered(bearer).orElseThrow();
        assertThat(cached.getPrincipal()).isEqualTo(new Caller(CallerIssuer.ORDERS));
        assertThat(cached.getCredentials()).isEmpty();
        assertThat(cached.getAttributes()).isEmpty();
        assertThat(cached.getRoles()).isEmpty();
        assertThat(cached.toString()).doesNotContain(bearer).doesNotContain(bearer.split("\\.")[1]);
        // and it serves: the next request is recognised and answered as that caller
        long hits = provider.hits();
        as(bearer).statusCode(200);
        assertThat(provider.hits() - hits).isEqualTo(1);
    }

    private static ValidatableResponse as(String bearer) {
        return given().header("Authorization", "Bearer " + bearer).post("/v1/environments/sandbox/token").then();
    }
}
