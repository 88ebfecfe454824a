package io.credentialbroker.health;

import static io.credentialbroker.testing.ManagementInterface.management;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;

import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import io.credentialbroker.testing.AzureAdStandInResource;
import io.credentialbroker.testing.CallerIssuerResource;
import io.credentialbroker.testing.InjectVaultStandIn;
import io.credentialbroker.testing.VaultStandIn;
import io.credentialbroker.testing.VaultStandInResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/** Vault answers the warm-up slowly: the startup probe waits, but only for a bounded time. */
@QuarkusTest
@TestProfile(SlowVaultWarmUpTest.BoundedStartup.class)
@WithTestResource(AzureAdStandInResource.class)
@WithTestResource(CallerIssuerResource.class)
@WithTestResource(value = VaultStandInResource.class,
        initArgs = @ResourceArg(name = "delay-first-reads", value = "PT20S"))
class SlowVaultWarmUpTest {

    public static class BoundedStartup implements QuarkusTestProfile {

        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("broker.token.warm-up", "true", "broker.health.startup-timeout", "4S",
                    "broker.vault.timeout", "30S", "quarkus.vault.read-timeout", "30S");
        }
    }

    @InjectVaultStandIn
    VaultStandIn vault;

    @Test
    @DisplayName("case 38: a slow first Vault read holds the startup probe down for a bounded time, then lets the pod start")
    void startsWithinTheStartupTimeout() {
        management().get("/q/health/started").then().statusCode(503)
                .body("checks.find { it.name == 'warm-up' }.data.sandbox", equalTo("warming-up"));
        management().get("/q/health/live").then().statusCode(200);

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> management().get("/q/health/started").then()
                .statusCode(200).body("checks.find { it.name == 'warm-up' }.data.timed_out", equalTo(true)));
        vault.reset(); // ends the delay
    }
}
