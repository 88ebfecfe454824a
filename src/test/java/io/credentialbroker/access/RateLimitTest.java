package io.credentialbroker.access;

import static io.credentialbroker.testing.AzureAdStandIn.issued;
import static io.credentialbroker.testing.AzureAdStandIn.newToken;
import static io.credentialbroker.testing.AzureAdStandIn.tokenRequest;
import static io.credentialbroker.testing.Fixtures.SANDBOX;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
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

/**
 * A burst from one caller is refused with 429 while other callers and Azure AD see no difference.
 */
@QuarkusTest
@TestProfile(RateLimitTest.LowLimit.class)
@WithTestResource(AzureAdStandInResource.class)
@WithTestResource(CallerIssuerResource.class)
@WithTestResource(VaultStandInResource.class)
class RateLimitTest extends StandInTest {

    public static class LowLimit implements QuarkusTestProfile {

        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("broker.rate-limit.token-requests-per-second", "0.5", "broker.rate-limit.token-burst", "3");
        }
    }

    @Test
    @DisplayName("case 31: a burst from one caller gets 429 with Retry-After; other callers unaffected; Azure AD traffic unchanged")
    void limitsANoisyCallerAlone() {
        CallerIssuerResource.actAsNobody();
        clock.freeze(); // the buckets refill with time: only the test moves it
        Fixtures.seed(vault);
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(issued(newToken(SANDBOX, "sandbox"), 3600)));
        String noisy = issuer.token(CallerIssuer.BILLING);
        String quiet = issuer.token(CallerIssuer.ORDERS);

        for (int i = 0; i < 3; i++) {
            request(noisy).statusCode(200);
        }
        request(noisy).statusCode(429)
                .contentType("application/problem+json")
                .header("Retry-After", "2") // 0.5 requests per second
                .body("code", equalTo("rate_limited"))
                .body("retry_after", equalTo(2));
        request(quiet).statusCode(200);
        assertThat(azureAd.tokenRequests(SANDBOX.domain())).isEqualTo(1);

        clock.advance(Duration.ofSeconds(2));
        request(noisy).statusCode(200);
        request(noisy).statusCode(429);
    }

    @AfterEach
    void unfreeze() {
        clock.unfreeze();
    }

    private static io.restassured.response.ValidatableResponse request(String bearer) {
        return given().header("Authorization", "Bearer " + bearer).post("/v1/environments/sandbox/token").then();
    }
}
