package io.credentialbroker.access;

import static io.credentialbroker.testing.AzureAdStandIn.issued;
import static io.credentialbroker.testing.AzureAdStandIn.newToken;
import static io.credentialbroker.testing.AzureAdStandIn.tokenRequest;
import static io.credentialbroker.testing.Fixtures.PRIMARY;
import static io.credentialbroker.testing.Fixtures.SANDBOX;
import static io.credentialbroker.testing.ScrapedMetrics.scrape;
import static io.credentialbroker.testing.ScrapedMetrics.value;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.credentialbroker.testing.AzureAdStandInResource;
import io.credentialbroker.testing.CallerIssuer;
import io.credentialbroker.testing.CallerIssuerResource;
import io.credentialbroker.testing.CapturedAudit;
import io.credentialbroker.testing.Fixtures;
import io.credentialbroker.testing.StandInTest;
import io.credentialbroker.testing.VaultStandInResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * A burst from one caller is refused with 429 while other callers and Azure AD see no difference;
 * denied requests count against the limit too, and a caller kept at 429 does not flood the audit
 * trail.
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
        clock.moveToNewDay(); // full buckets, whatever the other tests spent
        azureAd.reset();
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

    @Test
    @DisplayName("case 31: denied requests count against the caller's limit: 403 while under it, then 429 with Retry-After; one audit line a minute while throttled, the rest counted")
    void limitsACallerThatKeepsBeingDenied() {
        CallerIssuerResource.actAsNobody();
        clock.freeze();
        clock.moveToNewDay(); // a fresh bucket for every caller
        Fixtures.seed(vault);
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(issued(newToken(SANDBOX, "sandbox"), 3600)));
        String prober = issuer.token(CallerIssuer.BILLING); // granted the sandbox token only
        String quiet = issuer.token(CallerIssuer.ORDERS);
        double suppressedBefore = value(scrape(), "broker_audit_events_suppressed_total");

        try (CapturedAudit audit = CapturedAudit.start()) {
            // the burst of 3 is spent on refusals, on the token endpoint and on the credentials endpoint
            request(prober, "primary").statusCode(403).body("code", equalTo("not_granted"));
            request(prober, "primary").statusCode(403);
            given().header("Authorization", "Bearer " + prober).get("/v1/environments/sandbox/credentials").then()
                    .statusCode(403);
            request(prober, "primary").statusCode(429)
                    .contentType("application/problem+json")
                    .header("Retry-After", "2")
                    .body("code", equalTo("rate_limited"))
                    .body("retry_after", equalTo(2));
            for (int i = 0; i < 20; i++) {
                request(prober, "primary").statusCode(429);
            }
            request(prober, "sandbox").statusCode(429); // over the limit, even for what it is granted
            request(quiet, "sandbox").statusCode(200);

            List<JsonNode> probers = audit.events().stream()
                    .filter(event -> CallerIssuer.BILLING.equals(event.path("caller").asText())).toList();
            assertThat(probers).extracting(event -> event.path("outcome").asText())
                    .as("each denial under the limit, then one line for the throttled stretch")
                    .containsExactly("denied", "denied", "denied", "throttled");
            JsonNode throttled = probers.get(3);
            assertThat(throttled.path("error_code").asText()).isEqualTo("rate_limited");
            assertThat(throttled.path("environment").asText()).isEqualTo("primary");
            assertThat(throttled.has("suppressed_events")).isFalse();
            assertThat(value(scrape(), "broker_audit_events_suppressed_total")).as("the 21 refusals left out")
                    .isEqualTo(suppressedBefore + 21);

            // a minute on, the bucket is full again: denials are written one by one, and the next
            // throttled line says how many were left out before it
            clock.advance(Duration.ofMinutes(1));
            for (int i = 0; i < 3; i++) {
                request(prober, "primary").statusCode(403);
            }
            request(prober, "primary").statusCode(429);
            List<JsonNode> later = audit.events().stream()
                    .filter(event -> CallerIssuer.BILLING.equals(event.path("caller").asText())).skip(4).toList();
            assertThat(later).extracting(event -> event.path("outcome").asText())
                    .containsExactly("denied", "denied", "denied", "throttled");
            assertThat(later.get(3).path("suppressed_events").asLong()).isEqualTo(21);
        }
        assertThat(azureAd.tokenRequests(PRIMARY.domain())).isZero();
    }

    @Test
    @DisplayName("case 31: a granted caller kept over its limit gets one throttled audit line, not one per refusal")
    void writesOneAuditLinePerThrottledStretch() {
        CallerIssuerResource.actAsNobody();
        clock.freeze();
        clock.moveToNewDay();
        Fixtures.seed(vault);
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(issued(newToken(SANDBOX, "sandbox"), 3600)));
        String noisy = issuer.token(CallerIssuer.ORDERS);

        try (CapturedAudit audit = CapturedAudit.start()) {
            for (int i = 0; i < 3; i++) {
                request(noisy).statusCode(200);
            }
            for (int i = 0; i < 10; i++) {
                request(noisy).statusCode(429);
            }

            assertThat(audit.events()).extracting(event -> event.path("outcome").asText())
                    .containsExactly("granted", "granted", "granted", "throttled");
        }
    }

    @AfterEach
    void unfreeze() {
        clock.unfreeze();
    }

    private static io.restassured.response.ValidatableResponse request(String bearer) {
        return request(bearer, "sandbox");
    }

    private static io.restassured.response.ValidatableResponse request(String bearer, String environment) {
        return given().header("Authorization", "Bearer " + bearer).post("/v1/environments/{env}/token", environment)
                .then();
    }
}
