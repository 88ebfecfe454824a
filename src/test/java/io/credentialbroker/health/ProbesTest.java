package io.credentialbroker.health;

import static io.credentialbroker.testing.AzureAdStandIn.error;
import static io.credentialbroker.testing.AzureAdStandIn.issued;
import static io.credentialbroker.testing.AzureAdStandIn.newToken;
import static io.credentialbroker.testing.AzureAdStandIn.tokenRequest;
import static io.credentialbroker.testing.Fixtures.PRIMARY;
import static io.credentialbroker.testing.Fixtures.ROTATING;
import static io.credentialbroker.testing.Fixtures.SANDBOX;
import static io.credentialbroker.testing.ManagementInterface.management;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import jakarta.inject.Inject;

import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;
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
import io.vertx.core.Vertx;

/**
 * The three probes through a broker's life: started with nothing in Vault, serving, then Vault and
 * Azure AD both down. Warm-up is on, as in production.
 */
@QuarkusTest
@TestProfile(ProbesTest.AsInProduction.class)
@WithTestResource(AzureAdStandInResource.class)
@WithTestResource(CallerIssuerResource.class)
@WithTestResource(VaultStandInResource.class)
class ProbesTest extends StandInTest {

    public static class AsInProduction implements QuarkusTestProfile {

        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("broker.token.warm-up", "true", "broker.token.check-interval", "50MS",
                    "broker.health.stall-threshold", "1S");
        }
    }

    @Inject
    @Liveness
    EventLoopLiveness liveness;

    @Inject
    Vertx vertx;

    @Test
    @DisplayName("cases 1, 37, 40: unready with nothing to serve; ready and serving through a Vault and Azure AD outage, then a fast 503 with Retry-After once the token runs out; never a secret in a probe")
    void probesFollowWhatThePodCanServe() {
        CallerIssuerResource.actAs(issuer, CallerIssuer.OPERATOR);
        List<String> probeBodies = new ArrayList<>();

        // Vault was empty at startup: warm-up failed for every environment, nothing can be served
        probeBodies.add(management().get("/q/health/ready").then().statusCode(503)
                .body("checks.find { it.name == 'tokens' }.data.'sandbox.state'", equalTo("unavailable"))
                .body("checks.find { it.name == 'tokens' }.data.'sandbox.last_error'",
                        equalTo("environment_not_configured"))
                .extract().asString());
        probeBodies.add(management().get("/q/health/live").then().statusCode(200).extract().asString());
        probeBodies.add(management().get("/q/health/started").then().statusCode(200).extract().asString());

        // credentials arrive; after the failure backoff the periodic check mints with no caller asking
        Fixtures.seed(vault);
        String cached = newToken(SANDBOX, "sandbox");
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(issued(cached, 3600)));
        azureAd.stub(tokenRequest(PRIMARY.domain()).willReturn(issued(newToken(PRIMARY, "primary"), 3600)));
        azureAd.stub(tokenRequest(ROTATING.domain()).willReturn(issued(newToken(ROTATING, "rotating"), 3600)));
        clock.advance(Duration.ofMinutes(1));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> management().get("/q/health/ready").then()
                .statusCode(200)
                .body("checks.find { it.name == 'tokens' }.data.'sandbox.state'", equalTo("fresh"))
                .body("checks.find { it.name == 'tokens' }.data.'sandbox.credential_version'", equalTo(1)));

        // both upstreams down, tokens still valid: served, ready, alive
        vault.seal();
        azureAd.reset();
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(error(503, "temporarily_unavailable", 0)));
        clock.advance(Duration.ofMinutes(51));
        given().post("/v1/environments/sandbox/token").then().statusCode(200);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> management().get("/q/health/ready").then()
                .statusCode(200)
                .body("checks.find { it.name == 'tokens' }.data.'sandbox.state'", equalTo("stale-serving")));
        probeBodies.add(management().get("/q/health/ready").then().extract().asString());
        probeBodies.add(management().get("/q/health/live").then().statusCode(200).extract().asString());
        probeBodies.add(management().get("/q/health").then().extract().asString());

        // still both down, and the token runs out (60 s left: below min-remaining and skew): a fast 503
        // with Retry-After, never a hang; readiness says the environment cannot serve and why, and stays
        // UP only because the credential is loaded (a caller's request mints once Azure AD is back)
        clock.advance(Duration.ofMinutes(8));
        long started = System.nanoTime();
        given().post("/v1/environments/sandbox/token").then().statusCode(503)
                .contentType("application/problem+json")
                .header("Retry-After", notNullValue())
                .body("code", equalTo("azure_ad_unavailable"));
        assertThat(Duration.ofNanos(System.nanoTime() - started)).as("no hang").isLessThan(Duration.ofSeconds(5));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> management().get("/q/health/ready").then()
                .statusCode(200)
                .body("checks.find { it.name == 'tokens' }.data.'sandbox.state'", equalTo("unavailable"))
                .body("checks.find { it.name == 'tokens' }.data.'sandbox.last_error'", equalTo("azure_ad_unavailable"))
                .body("checks.find { it.name == 'tokens' }.data.'sandbox.credential_version'", equalTo(1)));
        probeBodies.add(management().get("/q/health/ready").then().extract().asString());
        probeBodies.add(management().get("/q/health/live").then().statusCode(200).extract().asString());

        for (String body : probeBodies) {
            assertThat(body).doesNotContain(SANDBOX.clientSecret(), PRIMARY.clientSecret(), cached,
                    SANDBOX.domain(), "must never repeat", vault.rootToken());
        }
        vault.unseal();
    }

    @Test
    @DisplayName("case 39: a wedged event loop fails liveness, and it recovers when the loop does")
    void aWedgedEventLoopFailsLiveness() {
        assertThat(liveness.call().getStatus()).isEqualTo(HealthCheckResponse.Status.UP);

        vertx.nettyEventLoopGroup().next().execute(() -> {
            try {
                Thread.sleep(2500); // deliberately blocking an event loop: the fault under test
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });

        await().atMost(Duration.ofSeconds(5))
                .until(() -> liveness.call().getStatus() == HealthCheckResponse.Status.DOWN);
        await().atMost(Duration.ofSeconds(5))
                .until(() -> liveness.call().getStatus() == HealthCheckResponse.Status.UP);
    }

    @Test
    @DisplayName("case 39: a wedged worker pool fails liveness, naming the pool, and it recovers when the pool does")
    void aWedgedWorkerPoolFailsLiveness() throws InterruptedException {
        assertThat(liveness.call().getStatus()).isEqualTo(HealthCheckResponse.Status.UP);
        CountDownLatch release = new CountDownLatch(1);
        try {
            // more blocking tasks than the worker pool has threads, each held until released: the fault under test
            for (int task = 0; task < 256; task++) {
                vertx.executeBlocking(() -> {
                    release.await();
                    return null;
                }, false);
            }

            await().atMost(Duration.ofSeconds(5))
                    .until(() -> liveness.call().getStatus() == HealthCheckResponse.Status.DOWN);
            assertThat(liveness.call().getData()).hasValueSatisfying(
                    data -> assertThat(data).containsKey("worker_pool_stalled_ms"));
        } finally {
            release.countDown();
        }
        await().atMost(Duration.ofSeconds(5))
                .until(() -> liveness.call().getStatus() == HealthCheckResponse.Status.UP);
    }
}
