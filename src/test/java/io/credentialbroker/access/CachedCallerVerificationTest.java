package io.credentialbroker.access;

import static io.credentialbroker.testing.AzureAdStandIn.issued;
import static io.credentialbroker.testing.AzureAdStandIn.newToken;
import static io.credentialbroker.testing.AzureAdStandIn.tokenRequest;
import static io.credentialbroker.testing.Fixtures.PRIMARY;
import static io.credentialbroker.testing.Fixtures.SANDBOX;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import jakarta.inject.Inject;

import org.jose4j.jwt.NumericDate;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import io.credentialbroker.testing.AzureAdStandInResource;
import io.credentialbroker.testing.CallerIssuer;
import io.credentialbroker.testing.CallerIssuerResource;
import io.credentialbroker.testing.Fixtures;
import io.credentialbroker.testing.StandInTest;
import io.credentialbroker.testing.VaultStandInResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.ValidatableResponse;

/**
 * The verified-token cache in front of quarkus-oidc, through the real HTTP stack: a cached token is
 * still refused once expired, no two tokens share an entry, refused tokens are verified again every
 * time. quarkus-oidc's lifespan grace is 1 s here (30 s in the other tests), so expiry shows within
 * seconds of real time; the cache itself never adds grace.
 */
@QuarkusTest
@TestProfile(CachedCallerVerificationTest.ShortGrace.class)
@WithTestResource(AzureAdStandInResource.class)
@WithTestResource(CallerIssuerResource.class)
@WithTestResource(VaultStandInResource.class)
class CachedCallerVerificationTest extends StandInTest {

    /** The test profile: quarkus-oidc tolerates 1 s of clock skew instead of 30 s. */
    public static class ShortGrace implements QuarkusTestProfile {

        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("quarkus.oidc.token.lifespan-grace", "1");
        }
    }

    @Inject
    CachingTokenIdentityProvider provider;

    @BeforeEach
    void setUp() {
        CallerIssuerResource.actAsNobody();
        clock.moveToNewDay();
        azureAd.reset();
        Fixtures.seed(vault);
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(issued(newToken(SANDBOX, "sandbox"), 3600)));
        azureAd.stub(tokenRequest(PRIMARY.domain()).willReturn(issued(newToken(PRIMARY, "primary"), 3600)));
    }

    @Test
    void verifiesATokenOnceAndRecognisesItAfterwards() {
        assertThat(provider.enabled()).isTrue();
        String bearer = issuer.token(CallerIssuer.BILLING);
        long verifications = provider.verifications();
        long hits = provider.hits();

        for (int i = 0; i < 3; i++) {
            as(bearer, "sandbox").statusCode(200).body("environment", equalTo("sandbox"));
        }

        assertThat(provider.verifications() - verifications).isEqualTo(1);
        assertThat(provider.hits() - hits).isEqualTo(2);
    }

    @Test
    @DisplayName("a token recognised from the cache is refused once it has expired")
    void refusesACachedTokenOnceExpired() {
        Instant expiry = Instant.now().plusSeconds(3);
        String bearer = issuer.token(CallerIssuer.BILLING,
                claims -> claims.setExpirationTime(NumericDate.fromSeconds(expiry.getEpochSecond())));
        as(bearer, "sandbox").statusCode(200);
        long hits = provider.hits();
        as(bearer, "sandbox").statusCode(200);
        assertThat(provider.hits() - hits).as("second request answered from the cache").isEqualTo(1);

        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(250))
                .until(() -> as(bearer, "sandbox").extract().statusCode() == 401);

        assertThat(Instant.now()).isAfter(expiry);
        as(bearer, "sandbox").statusCode(401);
    }

    @Test
    @DisplayName("a token past its exp is verified again, even while quarkus-oidc's grace still accepts it")
    void neverServesATokenFromTheCachePastItsExp() {
        // exp passed half a second ago: within quarkus-oidc's 1 s grace, so it verifies; the cache keeps nothing
        String bearer = issuer.token(CallerIssuer.BILLING, claims -> claims.setExpirationTime(
                NumericDate.fromMilliseconds(Instant.now().minusMillis(500).toEpochMilli())));
        long size = provider.size();
        long verifications = provider.verifications();

        // whether each passes quarkus-oidc's grace depends on how fast they arrive; what matters is that
        // neither is answered from the cache
        as(bearer, "sandbox");
        as(bearer, "sandbox");

        assertThat(provider.verifications() - verifications).as("both verified").isEqualTo(2);
        assertThat(provider.size()).as("nothing cached").isLessThanOrEqualTo(size);
    }

    @Test
    void differentTokensNeverShareAnEntry() {
        String billing = issuer.token(CallerIssuer.BILLING);
        String orders = issuer.token(CallerIssuer.ORDERS);
        String billingAgain = issuer.token(CallerIssuer.BILLING);
        long verifications = provider.verifications();

        as(billing, "sandbox").statusCode(200);
        as(orders, "primary").statusCode(200);
        as(billing, "primary").statusCode(403);
        as(billingAgain, "sandbox").statusCode(200);
        as(orders, "primary").statusCode(200);
        as(billing, "primary").statusCode(403);

        assertThat(provider.verifications() - verifications).as("one verification per distinct token").isEqualTo(3);
        given().header("Authorization", "Bearer " + billing).get("/v1/environments").then().statusCode(200)
                .body("environments.name", equalTo(List.of("sandbox")));
        given().header("Authorization", "Bearer " + orders).get("/v1/environments").then().statusCode(200)
                .body("environments.name", equalTo(List.of("primary", "sandbox")));
    }

    @Test
    @DisplayName("refused tokens are never cached: each attempt is verified again, and refused again")
    void neverCachesARefusal() {
        String good = issuer.token(CallerIssuer.OPERATOR);
        as(good, "sandbox").statusCode(200);
        List<Function<CallerIssuer, String>> badTokens = List.of(
                i -> "not-a-jwt",
                i -> i.unsignedToken(CallerIssuer.OPERATOR),
                i -> i.tamperedToken(CallerIssuer.BILLING, CallerIssuer.OPERATOR),
                i -> i.tokenSignedByStranger(CallerIssuer.OPERATOR),
                i -> i.token(CallerIssuer.OPERATOR, claims -> claims.setIssuer("https://evil.example")),
                i -> i.token(CallerIssuer.OPERATOR, claims -> claims.setAudience("vault")),
                i -> i.token(CallerIssuer.OPERATOR, claims -> claims.setExpirationTimeMinutesInTheFuture(-5)),
                // the valid token's signature on another payload
                i -> good.substring(0, good.indexOf('.')) + "." + i.token(CallerIssuer.OPERATOR).split("\\.")[1]
                        + good.substring(good.lastIndexOf('.')));
        long size = provider.size();
        long verifications = provider.verifications();

        for (Function<CallerIssuer, String> bad : badTokens) {
            String token = bad.apply(issuer);
            as(token, "sandbox").statusCode(401);
            as(token, "sandbox").statusCode(401);
        }

        assertThat(provider.verifications() - verifications).isEqualTo(2L * badTokens.size());
        assertThat(provider.size()).isLessThanOrEqualTo(size);
        assertThat(azureAd.server().getAllServeEvents()).hasSize(1);
    }

    private static ValidatableResponse as(String bearer, String environment) {
        return given().header("Authorization", "Bearer " + bearer)
                .post("/v1/environments/{environment}/token", environment).then();
    }
}
