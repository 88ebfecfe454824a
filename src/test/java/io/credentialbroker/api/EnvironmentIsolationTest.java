package io.credentialbroker.api;

import static io.credentialbroker.testing.AzureAdStandIn.error;
import static io.credentialbroker.testing.AzureAdStandIn.issued;
import static io.credentialbroker.testing.AzureAdStandIn.newToken;
import static io.credentialbroker.testing.AzureAdStandIn.tokenRequest;
import static io.credentialbroker.testing.Fixtures.FOREIGN_TENANT;
import static io.credentialbroker.testing.Fixtures.LAB;
import static io.credentialbroker.testing.Fixtures.PRIMARY;
import static io.credentialbroker.testing.Fixtures.ROTATING;
import static io.credentialbroker.testing.Fixtures.SANDBOX;
import static io.credentialbroker.testing.ManagementInterface.management;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.lessThanOrEqualTo;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.credentialbroker.testing.AzureAdStandInResource;
import io.credentialbroker.testing.CallerIssuer;
import io.credentialbroker.testing.CallerIssuerResource;
import io.credentialbroker.testing.CapturedAudit;
import io.credentialbroker.testing.CapturedLogs;
import io.credentialbroker.testing.Fixtures;
import io.credentialbroker.testing.ScrapedMetrics;
import io.credentialbroker.testing.StandInTest;
import io.credentialbroker.testing.VaultStandIn;
import io.credentialbroker.testing.VaultStandInResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.ValidatableResponse;

/**
 * An environment's label is a fact: every token minted for it must come from the tenant it is
 * pinned to (reliability cases 41 and 42), whichever path minted it, and one environment's mix-up
 * never touches another. Vault and Azure AD are the stand-ins, over real HTTP.
 */
@QuarkusTest
@TestProfile(EnvironmentIsolationTest.WithAMixedUpEnvironment.class)
@WithTestResource(AzureAdStandInResource.class)
@WithTestResource(CallerIssuerResource.class)
@WithTestResource(VaultStandInResource.class)
class EnvironmentIsolationTest extends StandInTest {

    /** The tenant of the account environment {@code mixed-up} is meant for. */
    static final String MIXED_UP_TENANT = "0000aaaa-0000-4000-8000-000000000005";
    static final String MIXED_UP_PATH = "partner-center/mixed-up";
    static final String MOUNT = VaultStandIn.DEFAULT_MOUNT;

    /**
     * Adds environment {@code mixed-up}, whose Vault entry the tests fill with another account's app: a
     * copy-paste slip in seeding. It has its own cache, so its trouble stays in this class.
     */
    public static class WithAMixedUpEnvironment implements QuarkusTestProfile {

        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("broker.environments.mixed-up.tenant-id", MIXED_UP_TENANT,
                    "broker.environments.mixed-up.vault-path", MIXED_UP_PATH,
                    "broker.environments.mixed-up.token-endpoint", "${broker.environments.sandbox.token-endpoint}");
        }
    }

    private CapturedAudit audit;

    @BeforeEach
    void seed() {
        CallerIssuerResource.actAs(issuer, CallerIssuer.OPERATOR);
        clock.moveToNewDay();
        azureAd.reset();
        Fixtures.seed(vault);
        audit = CapturedAudit.start();
    }

    @AfterEach
    void stopCapturing() {
        audit.close();
    }

    @Test
    @DisplayName("case 41: a Vault entry holding another tenant's app is never served under the environment's name (503 tenant_mismatch, long Retry-After); the other environments serve on")
    void refusesTokensFromAnotherTenantAndKeepsTheOthersServing() {
        vault.put(MOUNT, MIXED_UP_PATH, PRIMARY.vaultData()); // primary's app, stored under mixed-up
        String primaryAccountToken = newToken(PRIMARY, "primary-account");
        azureAd.stub(tokenRequest(PRIMARY.domain()).willReturn(issued(primaryAccountToken, 3600)));
        String sandboxToken = newToken(SANDBOX, "sandbox");
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(issued(sandboxToken, 3600)));
        String metrics = ScrapedMetrics.scrape();
        double failuresBefore = ScrapedMetrics.value(metrics, "broker_token_failures_total",
                "environment=\"mixed-up\"", "code=\"tenant_mismatch\"");

        String answer;
        try (CapturedLogs logs = CapturedLogs.asConfigured()) {
            answer = token("mixed-up").statusCode(503)
                    .contentType(Problem.MEDIA_TYPE)
                    .header("Retry-After", Integer::parseInt, allOf(greaterThanOrEqualTo(240), lessThanOrEqualTo(300)))
                    .body("code", equalTo("tenant_mismatch"))
                    .body("environment", equalTo("mixed-up"))
                    .extract().asString();
            assertThat(logs.text().lines().filter(line -> line.contains("Refused a token minted for environment")))
                    .singleElement().asString()
                    .contains("'mixed-up'", "tenant " + PRIMARY.tenantId(), "pinned to tenant " + MIXED_UP_TENANT)
                    .doesNotContain(primaryAccountToken);
        }
        assertThat(answer).doesNotContain(primaryAccountToken, PRIMARY.clientSecret());

        // the other environments are untouched, primary included (its own credential, its own tenant)
        token("sandbox").statusCode(200).body("access_token", equalTo(sandboxToken))
                .body("environment", equalTo("sandbox"));
        token("primary").statusCode(200).body("environment", equalTo("primary"));

        // told to everyone who looks: the environment list, readiness, the metric, the audit trail
        given().get("/v1/environments").then().statusCode(200)
                .body("environments.find { it.name == 'mixed-up' }.token_state", equalTo("unavailable"))
                .body("environments.find { it.name == 'mixed-up' }.last_error", equalTo("tenant_mismatch"))
                .body("environments.find { it.name == 'mixed-up' }.tenant_id", equalTo(MIXED_UP_TENANT))
                .body("environments.find { it.name == 'sandbox' }.token_state", equalTo("fresh"));
        management().get("/q/health/ready").then().statusCode(200)
                .body("checks.find { it.name == 'tokens' }.data.'mixed-up.last_error'", equalTo("tenant_mismatch"))
                .body("checks.find { it.name == 'tokens' }.data.'mixed-up.state'", equalTo("unavailable"));
        assertThat(ScrapedMetrics.value(ScrapedMetrics.scrape(), "broker_token_failures_total",
                "environment=\"mixed-up\"", "code=\"tenant_mismatch\"")).isEqualTo(failuresBefore + 1);
        assertThat(audit.events("mixed-up")).filteredOn(event -> event.path("action").asText().equals("token.mint"))
                .singleElement().satisfies(event -> {
                    assertThat(event.path("outcome").asText()).isEqualTo("refused");
                    assertThat(event.path("error_code").asText()).isEqualTo("tenant_mismatch");
                    assertThat(event.path("expected_tenant").asText()).isEqualTo(MIXED_UP_TENANT);
                    assertThat(event.path("found_tenant").asText()).isEqualTo(PRIMARY.tenantId());
                });
        assertThat(audit.text()).doesNotContain(primaryAccountToken);

        // a configuration error, not an outage: Azure AD is left alone for minutes, not seconds
        clock.advance(Duration.ofMinutes(2));
        token("mixed-up").statusCode(503).body("code", equalTo("tenant_mismatch"));
        assertThat(azureAd.tokenRequests(PRIMARY.domain())).isEqualTo(2); // mixed-up's one, primary's own one
    }

    @Test
    @DisplayName("case 41: a minted token that is not a JWT, or names no tenant, fails closed as tenant_mismatch")
    void failsClosedOnATokenWhoseTenantCannotBeRead() {
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(issued("opaque-fake-token-" + UUID.randomUUID(), 3600)));
        token("sandbox").statusCode(503).body("code", equalTo("tenant_mismatch"));

        clock.moveToNewDay();
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(issued(newToken((String) null, "no-tid"), 3600)));
        token("sandbox").statusCode(503).body("code", equalTo("tenant_mismatch"));

        clock.moveToNewDay();
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(issued(newToken(FOREIGN_TENANT, "foreign"), 3600)));
        token("sandbox").statusCode(503).body("code", equalTo("tenant_mismatch"));

        assertThat(audit.events("sandbox")).filteredOn(event -> event.path("action").asText().equals("token.mint"))
                .extracting(event -> event.path("found_tenant").asText(null))
                .containsExactly(null, null, FOREIGN_TENANT);
    }

    @Test
    @DisplayName("case 41: the credential re-read after invalid_client is held to the pin too")
    void checksTheTokenMintedWithACredentialReReadAfterInvalidClient() {
        azureAd.stub(tokenRequest(ROTATING.domain()).willReturn(issued(newToken(ROTATING, "first"), 3600)));
        token("rotating").statusCode(200);

        // behind the broker's back, Vault gets primary's app under rotating's path, and the old key dies
        vault.put(MOUNT, ROTATING.vaultPath(), PRIMARY.vaultData());
        azureAd.stub(tokenRequest(ROTATING.domain()).willReturn(error(401, "invalid_client", 7000215)));
        azureAd.stub(tokenRequest(PRIMARY.domain()).willReturn(issued(newToken(PRIMARY, "primary-account"), 3600)));
        clock.moveToNewDay();

        token("rotating").statusCode(503).body("code", equalTo("tenant_mismatch"));
        assertThat(azureAd.tokenRequests(ROTATING.domain())).isEqualTo(2);
        assertThat(azureAd.tokenRequests(PRIMARY.domain())).isEqualTo(1);
    }

    @Test
    @DisplayName("case 42: a rotation to a key of another tenant is refused with 422 tenant_mismatch, nothing is stored, and the refusal is audited")
    void refusesARotationToAnotherTenantsKey() {
        String proof = newToken(PRIMARY, "proof");
        azureAd.stub(tokenRequest(PRIMARY.domain()).willReturn(issued(proof, 3600)));

        String answer = rotate("{\"client_id\": \"" + PRIMARY.clientId() + "\", \"client_secret\": \""
                + PRIMARY.clientSecret() + "\", \"domain\": \"" + PRIMARY.domain() + "\"}").statusCode(422)
                .contentType(Problem.MEDIA_TYPE)
                .body("code", equalTo("tenant_mismatch"))
                .body("environment", equalTo("lab"))
                .extract().asString();

        assertThat(answer).doesNotContain(proof, PRIMARY.clientSecret());
        assertThat(vault.currentVersion(MOUNT, LAB.vaultPath())).hasValue(1);
        List<JsonNode> lab = audit.events("lab");
        assertThat(lab).filteredOn(event -> event.path("action").asText().equals("credentials.rotate"))
                .extracting(event -> event.path("outcome").asText() + " " + event.path("error_code").asText(""))
                .containsExactly("proving ", "failed tenant_mismatch");
        assertThat(lab).filteredOn(event -> event.path("action").asText().equals("token.mint"))
                .singleElement().satisfies(event -> assertThat(event.path("found_tenant").asText())
                        .isEqualTo(PRIMARY.tenantId()));
        assertThat(audit.text()).doesNotContain(proof, PRIMARY.clientSecret());
    }

    @Test
    @DisplayName("a domain change to another domain of the same tenant is allowed: the pin is the tenant ID, not the domain")
    void allowsAnotherDomainOfTheSameTenant() {
        String vanity = "fake-lab-vanity.example";
        String newSecret = "fake-lab-secret-new-" + UUID.randomUUID();
        azureAd.stub(tokenRequest(vanity, LAB.clientId(), newSecret).willReturn(issued(newToken(LAB, "proof"), 3600)));

        rotate("{\"client_secret\": \"" + newSecret + "\", \"domain\": \"" + vanity + "\"}").statusCode(200)
                .body("state", equalTo("completed"))
                .body("version", equalTo(2));

        assertThat(vault.data(MOUNT, LAB.vaultPath(), 2)).hasValue(Map.of("client_id", LAB.clientId(),
                "client_secret", newSecret, "domain", vanity));
    }

    @Test
    @DisplayName("a rotation that stores the environment's own app again ends the tenant_mismatch backoff at once")
    void aFixedCredentialEndsTheBackoff() {
        vault.put(MOUNT, MIXED_UP_PATH, PRIMARY.vaultData());
        azureAd.stub(tokenRequest(PRIMARY.domain()).willReturn(issued(newToken(PRIMARY, "primary-account"), 3600)));
        token("mixed-up").statusCode(503).body("code", equalTo("tenant_mismatch"));

        String domain = "fake-mixed-up.onmicrosoft.com";
        String secret = "fake-mixed-up-secret-" + UUID.randomUUID();
        String clientId = "55555555-5555-4555-8555-555555555555";
        String own = newToken(MIXED_UP_TENANT, "own-account");
        azureAd.stub(tokenRequest(domain, clientId, secret).willReturn(issued(own, 3600)));
        given().contentType("application/json").header("If-Match", "\"1\"")
                .body("{\"client_id\": \"" + clientId + "\", \"client_secret\": \"" + secret + "\", \"domain\": \""
                        + domain + "\"}")
                .put("/v1/environments/mixed-up/credentials").then().statusCode(200).body("version", equalTo(2));

        // no minutes of waiting: the next request mints with the stored version
        token("mixed-up").statusCode(200).body("access_token", equalTo(own)).body("credential_version", equalTo(2));
    }

    private static ValidatableResponse token(String environment) {
        return given().post("/v1/environments/" + environment + "/token").then();
    }

    private static ValidatableResponse rotate(String body) {
        return given().contentType("application/json").header("If-Match", "\"1\"").body(body)
                .put("/v1/environments/lab/credentials").then();
    }
}
