package io.credentialbroker.token;

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
import java.util.Map;

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

/** With warm-up on, as in production, tokens are minted and replaced with no caller asking. */
@QuarkusTest
@TestProfile(BackgroundRefreshTest.KeepWarm.class)
@WithTestResource(AzureAdStandInResource.class)
@WithTestResource(CallerIssuerResource.class)
@WithTestResource(VaultStandInResource.class)
class BackgroundRefreshTest extends StandInTest {

    public static class KeepWarm implements QuarkusTestProfile {

        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("broker.token.warm-up", "true", "broker.token.check-interval", "50MS");
        }
    }

    @Test
    void mintsAndRefreshesTokensWithNoCallerAsking() {
        CallerIssuerResource.actAs(issuer, CallerIssuer.OPERATOR);
        // Vault was empty when the broker started, so warm-up failed and the caches are backing off
        Fixtures.seed(vault);
        String first = newToken(SANDBOX, "first");
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(issued(first, 3600)));
        azureAd.stub(tokenRequest(PRIMARY.domain()).willReturn(issued(newToken(PRIMARY, "primary"), 3600)));
        clock.advance(Duration.ofMinutes(1));

        await().atMost(Duration.ofSeconds(10)).until(() -> azureAd.tokenRequests(SANDBOX.domain()) == 1
                && azureAd.tokenRequests(PRIMARY.domain()) == 1);
        given().get("/v1/environments").then()
                .body("environments.find { it.name == 'sandbox' }.token_state", equalTo("fresh"));

        String second = newToken(SANDBOX, "second");
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(issued(second, 3600)));
        clock.advance(Duration.ofMinutes(51));
        await().atMost(Duration.ofSeconds(10)).until(() -> azureAd.tokenRequests(SANDBOX.domain()) == 2);

        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> given().post("/v1/environments/sandbox/token")
                .then().statusCode(200).body("access_token", equalTo(second)));
        assertThat(azureAd.tokenRequests(SANDBOX.domain())).isEqualTo(2);
    }
}
