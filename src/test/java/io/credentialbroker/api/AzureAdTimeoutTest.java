package io.credentialbroker.api;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static io.credentialbroker.testing.AzureAdStandIn.issued;
import static io.credentialbroker.testing.AzureAdStandIn.newToken;
import static io.credentialbroker.testing.AzureAdStandIn.tokenRequest;
import static io.credentialbroker.testing.Fixtures.SANDBOX;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;

import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import com.github.tomakehurst.wiremock.http.Fault;

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

/**
 * Azure AD that hangs or breaks the connection, with a short read timeout so the tests stay fast.
 */
@QuarkusTest
@TestProfile(AzureAdTimeoutTest.ShortReadTimeout.class)
@WithTestResource(AzureAdStandInResource.class)
@WithTestResource(CallerIssuerResource.class)
@WithTestResource(VaultStandInResource.class)
class AzureAdTimeoutTest extends StandInTest {

    public static class ShortReadTimeout implements QuarkusTestProfile {

        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("broker.token.azure-ad.read-timeout", "1S", "broker.token.max-wait", "10S");
        }
    }

    @BeforeEach
    void coldStart() {
        CallerIssuerResource.actAs(issuer, CallerIssuer.OPERATOR);
        clock.moveToNewDay();
        azureAd.reset();
        Fixtures.seed(vault);
    }

    @Test
    @DisplayName("case 15: Azure AD timing out while the cached token is valid: still served")
    void servesTheCachedTokenWhileAzureAdTimesOut() {
        String cached = cacheAToken();
        azureAd.stub(tokenRequest(SANDBOX.domain())
                .willReturn(issued(newToken(SANDBOX, "late"), 3600).withFixedDelay(2500)));
        clock.advance(Duration.ofMinutes(51));

        requestToken().statusCode(200).body("access_token", equalTo(cached));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> given().get("/v1/environments").then()
                .body("environments.find { it.name == 'sandbox' }.token_state", equalTo("stale-serving")));
        // WireMock journals a delayed request only once its response is due
        await().atMost(Duration.ofSeconds(10)).until(() -> azureAd.tokenRequests(SANDBOX.domain()) == 1 + 3);
        requestToken().statusCode(200).body("access_token", equalTo(cached));
        assertThat(azureAd.tokenRequests(SANDBOX.domain())).isEqualTo(1 + 3);
    }

    @ParameterizedTest
    @EnumSource(value = Fault.class)
    @DisplayName("case 15: broken connections while the cached token is valid: still served")
    void servesTheCachedTokenThroughBrokenConnections(Fault fault) {
        String cached = cacheAToken();
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(aResponse().withFault(fault)));
        clock.advance(Duration.ofMinutes(51));

        requestToken().statusCode(200).body("access_token", equalTo(cached));
        await().atMost(Duration.ofSeconds(10)).until(() -> azureAd.tokenRequests(SANDBOX.domain()) == 1 + 3);
        requestToken().statusCode(200).body("access_token", equalTo(cached));
    }

    @Test
    @DisplayName("case 15: a cold cache and a hanging Azure AD give a 503 within the bounded mint, no hang")
    void answers503WhenAzureAdHangsOnAColdCache() {
        azureAd.stub(tokenRequest(SANDBOX.domain())
                .willReturn(issued(newToken(SANDBOX, "late"), 3600).withFixedDelay(2500)));

        long started = System.nanoTime();
        requestToken().statusCode(503).body("code", equalTo("azure_ad_unavailable"));
        // three attempts of at most 1 s each, and short backoffs between them
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(8));
        await().atMost(Duration.ofSeconds(10)).until(() -> azureAd.tokenRequests(SANDBOX.domain()) == 3);
    }

    private String cacheAToken() {
        String token = newToken(SANDBOX, "cached");
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(issued(token, 3600)));
        requestToken().statusCode(200).body("access_token", equalTo(token));
        return token;
    }

    private static io.restassured.response.ValidatableResponse requestToken() {
        return given().post("/v1/environments/sandbox/token").then();
    }
}
