package io.credentialbroker.health;

import static io.credentialbroker.testing.ManagementInterface.management;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;

import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import io.credentialbroker.testing.AzureAdStandIn;
import io.credentialbroker.testing.AzureAdStandInResource;
import io.credentialbroker.testing.AzureAdStandInResource.InjectAzureAd;
import io.credentialbroker.testing.CallerIssuerResource;
import io.credentialbroker.testing.Fixtures;
import io.credentialbroker.testing.VaultStandInResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * A pod serving many environments warms them up a few at a time, so that a rollout does not send
 * Vault and Azure AD one request per environment in the same instant (issue 7).
 */
@QuarkusTest
@TestProfile(StaggeredWarmUpTest.TwoAtATime.class)
@WithTestResource(value = AzureAdStandInResource.class, initArgs = @ResourceArg(name = "tokens", value = "held"))
@WithTestResource(CallerIssuerResource.class)
@WithTestResource(value = VaultStandInResource.class, initArgs = @ResourceArg(name = "start", value = "seeded"))
class StaggeredWarmUpTest {

    public static class TwoAtATime implements QuarkusTestProfile {

        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("broker.token.warm-up", "true", "broker.token.warm-up-concurrency", "2",
                    "broker.health.startup-timeout", "1M");
        }
    }

    @InjectAzureAd
    AzureAdStandIn azureAd;

    @Test
    @DisplayName("four environments warm up two at a time; each lane takes the next environment when its mint ends")
    void warmsUpTwoEnvironmentsAtATime() {
        azureAd.awaitHeld(2);
        assertThat(azureAd.anotherHeldWithin(Duration.ofMillis(700)))
                .as("a third environment's token request while two were still in flight").isFalse();
        management().get("/q/health/started").then().statusCode(503);

        azureAd.release();

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> management().get("/q/health/started").then()
                .statusCode(200).body("checks.find { it.name == 'warm-up' }.data.sandbox", equalTo("done"))
                .body("checks.find { it.name == 'warm-up' }.data.primary", equalTo("done"))
                .body("checks.find { it.name == 'warm-up' }.data.rotating", equalTo("done"))
                .body("checks.find { it.name == 'warm-up' }.data.lab", equalTo("done")));
        for (Fixtures.Account account : new Fixtures.Account[]{Fixtures.SANDBOX, Fixtures.PRIMARY,
                Fixtures.ROTATING, Fixtures.LAB}) {
            assertThat(azureAd.tokenRequests(account.domain())).as(account.environment()).isEqualTo(1);
        }
        management().get("/q/health/ready").then().statusCode(200);
    }
}
