package io.credentialbroker.config;

import static io.credentialbroker.testing.ManagementInterface.management;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import io.credentialbroker.testing.AzureAdStandInResource;
import io.credentialbroker.testing.CallerIssuer;
import io.credentialbroker.testing.CallerIssuerResource;
import io.credentialbroker.testing.CapturedLogs;
import io.credentialbroker.testing.Fixtures;
import io.credentialbroker.testing.StandInTest;
import io.credentialbroker.testing.VaultStandInResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;
import io.smallrye.config.SecretKeys;
import io.smallrye.config.SmallRyeConfig;

/**
 * What can print the broker's configuration, with a configured secret in it: the Vault client token
 * (token auth, for local use), generated for the run by the Vault stand-in's resource. The broker's
 * own keys ({@code broker.*}) hold no secret, and {@code BrokerConfig}'s string form prints no
 * value (SmallRye Config writes one only for a mapping that declares {@code toString()}).
 */
@QuarkusTest
@TestProfile(ConfigurationDumpTest.ConfigurationValuesLogged.class)
@WithTestResource(AzureAdStandInResource.class)
@WithTestResource(CallerIssuerResource.class)
@WithTestResource(VaultStandInResource.class)
class ConfigurationDumpTest extends StandInTest {

    private static final String VAULT_TOKEN = "quarkus.vault.authentication.client-token";

    /**
     * Quarkus's configuration dump as an operator turns it on: with {@code quarkus.config.log.values},
     * SmallRye Config logs every value looked up, and where it came from, on the category
     * {@code io.smallrye.config} at DEBUG (the test captures that category itself, off the console).
     */
    public static class ConfigurationValuesLogged implements QuarkusTestProfile {

        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("quarkus.config.log.values", "true");
        }
    }

    @BeforeEach
    void seedVault() {
        CallerIssuerResource.actAs(issuer, CallerIssuer.OPERATOR);
        Fixtures.seed(vault);
    }

    @Test
    @DisplayName("case 35: Quarkus's configuration dump (every value looked up, at DEBUG) shows the Vault URL and the token's key, never the token, and the broker still reads Vault with it")
    void theConfigurationDumpHoldsNoVaultToken() {
        SmallRyeConfig config = ConfigProvider.getConfig().unwrap(SmallRyeConfig.class);
        String dump;
        try (CapturedLogs logged = CapturedLogs.everything("io.smallrye.config")) {
            // looked up as at startup: quarkus-vault's configuration mapping reads the token unlocked
            String url = config.getConfigValue("quarkus.vault.url").getValue();
            String token = SecretKeys.doUnlocked(() -> config.getConfigValue(VAULT_TOKEN).getValue());
            assertThat(url).isEqualTo(vault.url());
            assertThat(token).as("the token is configured").isEqualTo(vault.rootToken());
            dump = logged.text();
        }

        assertThat(dump).as("the dump prints values").contains("quarkus.vault.url", vault.url());
        assertThat(dump).as("the token's lookup is in the dump").contains(VAULT_TOKEN);
        assertThat(dump).as("the dump").doesNotContain(vault.rootToken());
        given().get("/v1/environments/sandbox/credentials").then().statusCode(200);
    }

    @Test
    @DisplayName("case 35: probes, metrics and the OpenAPI description hold no configured secret; Quarkus's configuration and info pages are served on neither port")
    void noEndpointPrintsTheConfiguration() {
        Map<String, Response> served = Map.of("/q/health", management().get("/q/health"),
                "/q/metrics", management().get("/q/metrics"),
                "/q/openapi", given().accept("application/json").get("/q/openapi"));
        for (Map.Entry<String, Response> answer : served.entrySet()) {
            assertThat(answer.getValue().statusCode()).as(answer.getKey()).isEqualTo(200);
            assertThat(answer.getValue().asString()).as(answer.getKey()).doesNotContain(vault.rootToken());
        }
        assertThat(served.get("/q/health").asString()).as("readiness names the configured environments")
                .contains("sandbox");
        assertThat(served.get("/q/metrics").asString()).as("metrics name the configured environments")
                .contains("environment=\"sandbox\"");

        for (String page : List.of("/q/dev-ui", "/q/dev-ui/configuration-form-editor", "/q/dev-v1", "/q/info",
                "/q/arc", "/q/arc/beans")) {
            assertThat(given().get(page).statusCode()).as("API port " + page).isEqualTo(404);
            assertThat(management().get(page).statusCode()).as("management port " + page).isEqualTo(404);
        }
    }
}
