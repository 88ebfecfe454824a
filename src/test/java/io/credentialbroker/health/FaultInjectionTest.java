package io.credentialbroker.health;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static io.credentialbroker.testing.AzureAdStandIn.issued;
import static io.credentialbroker.testing.AzureAdStandIn.newToken;
import static io.credentialbroker.testing.AzureAdStandIn.tokenRequest;
import static io.credentialbroker.testing.Fixtures.LAB;
import static io.credentialbroker.testing.Fixtures.PRIMARY;
import static io.credentialbroker.testing.Fixtures.ROTATING;
import static io.credentialbroker.testing.Fixtures.SANDBOX;
import static io.credentialbroker.testing.ManagementInterface.management;
import static io.credentialbroker.testing.ScrapedMetrics.scrape;
import static io.credentialbroker.testing.ScrapedMetrics.value;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.http.Fault;

import io.credentialbroker.testing.AzureAdStandInResource;
import io.credentialbroker.testing.CallerIssuer;
import io.credentialbroker.testing.CallerIssuerResource;
import io.credentialbroker.testing.CapturedLogs;
import io.credentialbroker.testing.Fixtures;
import io.credentialbroker.testing.StandInTest;
import io.credentialbroker.testing.VaultStandIn;
import io.credentialbroker.testing.VaultStandInResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * The fault-injection suite (issue 5): each Vault and Azure AD fault, driven through real HTTP
 * against the stand-ins, and what it leaves behind: what the caller gets, what readiness and
 * liveness say, which series moved, and that no secret, token or upstream text reached the answer,
 * the probes, the metrics or the logs. Each fault meets a cold environment while {@code sandbox}
 * holds a good token throughout: one environment's failure never degrades another's. (Every path at
 * TRACE is {@code NoSecretInLogsTest}'s; here the logs are what production writes, INFO and up.)
 */
@QuarkusTest
@TestProfile(FaultInjectionTest.BoundedWaits.class)
@WithTestResource(AzureAdStandInResource.class)
@WithTestResource(CallerIssuerResource.class)
@WithTestResource(VaultStandInResource.class)
class FaultInjectionTest extends StandInTest {

    public static class BoundedWaits implements QuarkusTestProfile {

        @Override
        public Map<String, String> getConfigOverrides() {
            // Vault calls are bounded by broker.vault.timeout (2 s in tests); Azure AD by this
            return Map.of("broker.token.azure-ad.read-timeout", "300MS");
        }
    }

    /** How Vault fails the read of a cold environment's credential, and what that must become. */
    enum VaultFault {

        SEALED(VaultStandIn::seal, "vault_unavailable", "unavailable"),
        PERMISSION_DENIED(vault -> vault.denyNext(VaultStandIn.ALWAYS), "vault_permission_denied",
                "permission_denied"),
        PATH_MISSING(vault -> {
            vault.reset();
            for (Fixtures.Account account : List.of(SANDBOX, PRIMARY, ROTATING)) {
                vault.put(VaultStandIn.DEFAULT_MOUNT, account.vaultPath(), account.vaultData());
            }
        }, "environment_not_configured", "not_found"),
        CONNECTION_RESET(vault -> vault.dropConnectionNext(VaultStandIn.ALWAYS), "vault_unavailable", "unavailable"),
        SLOW_REPLY(vault -> vault.delayNext(VaultStandIn.ALWAYS, Duration.ofSeconds(30)), "vault_unavailable",
                "unavailable"),
        MALFORMED_JSON(vault -> vault.malformedJsonNext(VaultStandIn.ALWAYS), "vault_unavailable", "unavailable");

        final Consumer<VaultStandIn> inject;
        final String code;
        final String vaultOutcome;

        VaultFault(Consumer<VaultStandIn> inject, String code, String vaultOutcome) {
            this.inject = inject;
            this.code = code;
            this.vaultOutcome = vaultOutcome;
        }
    }

    /** How Azure AD fails a cold environment's token request (WireMock's faults). */
    enum AzureAdFault {

        CONNECTION_RESET(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)),
        EMPTY_RESPONSE(aResponse().withFault(Fault.EMPTY_RESPONSE)),
        MALFORMED_CHUNK(aResponse().withFault(Fault.MALFORMED_RESPONSE_CHUNK)),
        RANDOM_DATA_THEN_CLOSE(aResponse().withFault(Fault.RANDOM_DATA_THEN_CLOSE)),
        LONG_DELAY(issued(newToken(SANDBOX, "too-late"), 3600).withFixedDelay(2_000));

        final ResponseDefinitionBuilder response;

        AzureAdFault(ResponseDefinitionBuilder response) {
            this.response = response;
        }
    }

    private CapturedLogs logs;
    private final List<String> seen = new ArrayList<>();
    private String sandboxToken;

    /** A fresh day, every credential in Vault, and a good sandbox token in the cache. */
    @BeforeEach
    void sandboxServing() {
        logs = CapturedLogs.asConfigured();
        seen.add(CallerIssuerResource.actAs(issuer, CallerIssuer.OPERATOR));
        clock.moveToNewDay();
        Fixtures.seed(vault);
        azureAd.reset();
        sandboxToken = newToken(SANDBOX, "sandbox");
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(issued(sandboxToken, 3600)));
        given().post("/v1/environments/sandbox/token").then().statusCode(200);
    }

    @AfterEach
    void stopCapturing() {
        logs.close();
        vault.reset(); // ends delays and seals
        azureAd.reset();
    }

    @ParameterizedTest
    @EnumSource(VaultFault.class)
    void vaultFault(VaultFault fault) {
        String before = scrape();
        fault.inject.accept(vault);

        long started = System.nanoTime();
        seen.add(given().post("/v1/environments/lab/token").then().statusCode(503)
                .header("Retry-After", notNullValue()).body("code", equalTo(fault.code)).extract().asString());
        assertThat(Duration.ofNanos(System.nanoTime() - started)).as("within the Vault timeout (2 s) and retries")
                .isLessThan(Duration.ofSeconds(5));

        assertTheRestStands("lab", fault.code);
        String after = scrape();
        assertThat(value(after, "broker_vault_requests_total", "operation=\"read\"",
                "outcome=\"" + fault.vaultOutcome + "\"")).as("the Vault series of this outcome")
                .isGreaterThan(value(before, "broker_vault_requests_total", "operation=\"read\"",
                        "outcome=\"" + fault.vaultOutcome + "\""));
        assertThat(value(after, "broker_token_requests_total", "environment=\"lab\"", "outcome=\"failed\"",
                "error_code=\"" + fault.code + "\"")).isGreaterThan(value(before, "broker_token_requests_total",
                        "environment=\"lab\"", "outcome=\"failed\"", "error_code=\"" + fault.code + "\""));
        assertNothingSecret("lab");
    }

    /**
     * Case 6 on the real Vault adapter: sandbox's credential was loaded from Vault before the fault;
     * when its token must be replaced during the fault, the credential in hand mints it, and callers
     * never notice Vault is failing.
     */
    @ParameterizedTest
    @EnumSource(value = VaultFault.class, names = {"SEALED", "PERMISSION_DENIED", "CONNECTION_RESET", "SLOW_REPLY",
            "MALFORMED_JSON"})
    void keepsTheLoadedCredentialThroughAVaultFault(VaultFault fault) {
        String replacement = newToken(SANDBOX, "minted-during-the-fault");
        azureAd.stub(tokenRequest(SANDBOX.domain(), SANDBOX.clientId(), SANDBOX.clientSecret())
                .willReturn(issued(replacement, 3600)));
        fault.inject.accept(vault);
        clock.moveToNewDay(); // the cached token is long expired: a new one must be minted now

        long started = System.nanoTime();
        given().post("/v1/environments/sandbox/token").then().statusCode(200)
                .body("access_token", equalTo(replacement)).body("credential_version", equalTo(1));
        assertThat(Duration.ofNanos(System.nanoTime() - started)).as("no wait on the failing Vault")
                .isLessThan(Duration.ofSeconds(2));
        assertThat(azureAd.tokenRequests(SANDBOX.domain())).as("the first mint and this one").isEqualTo(2);
        management().get("/q/health/ready").then().statusCode(200)
                .body("checks.find { it.name == 'tokens' }.data.'sandbox.state'", equalTo("fresh"))
                .body("checks.find { it.name == 'tokens' }.data.'sandbox.credential_version'", equalTo(1));
    }

    @ParameterizedTest
    @EnumSource(AzureAdFault.class)
    void azureAdFault(AzureAdFault fault) {
        String before = scrape();
        azureAd.stub(tokenRequest(ROTATING.domain()).willReturn(fault.response));

        long started = System.nanoTime();
        seen.add(given().post("/v1/environments/rotating/token").then().statusCode(503)
                .header("Retry-After", notNullValue()).body("code", equalTo("azure_ad_unavailable")).extract()
                .asString());
        assertThat(Duration.ofNanos(System.nanoTime() - started)).as("3 attempts of at most 300 ms, no hang")
                .isLessThan(Duration.ofSeconds(5));
        assertThat(azureAd.tokenRequests(ROTATING.domain())).as("at most 2 retries").isBetween(1, 3);

        assertTheRestStands("rotating", "azure_ad_unavailable");
        String after = scrape();
        assertThat(value(after, "broker_azure_ad_requests_total", "environment=\"rotating\"", "outcome=\"transient\""))
                .isGreaterThan(value(before, "broker_azure_ad_requests_total", "environment=\"rotating\"",
                        "outcome=\"transient\""));
        assertThat(value(after, "broker_token_requests_total", "environment=\"rotating\"", "outcome=\"failed\"",
                "error_code=\"azure_ad_unavailable\"")).isGreaterThan(value(before, "broker_token_requests_total",
                        "environment=\"rotating\"", "outcome=\"failed\"", "error_code=\"azure_ad_unavailable\""));
        assertNothingSecret("rotating");
    }

    /**
     * The other environment still serves, the pod stays ready and alive, and readiness names the fault.
     */
    private void assertTheRestStands(String failing, String code) {
        given().post("/v1/environments/sandbox/token").then().statusCode(200)
                .body("access_token", equalTo(sandboxToken));
        seen.add(management().get("/q/health/ready").then().statusCode(200)
                .body("checks.find { it.name == 'tokens' }.data.'sandbox.state'", equalTo("fresh"))
                .body("checks.find { it.name == 'tokens' }.data.'" + failing + ".state'", equalTo("unavailable"))
                .body("checks.find { it.name == 'tokens' }.data.'" + failing + ".last_error'", equalTo(code))
                .extract().asString());
        seen.add(management().get("/q/health/live").then().statusCode(200).extract().asString());
    }

    private void assertNothingSecret(String failing) {
        seen.add(scrape());
        seen.add(logs.text());
        assertThat(logs.text()).as("the log capture works: the failure is logged")
                .contains("environment '" + failing + "'");
        for (String text : seen) {
            assertThat(text).doesNotContain(SANDBOX.clientSecret(), LAB.clientSecret(), ROTATING.clientSecret(),
                    PRIMARY.clientSecret(), vault.rootToken(), sandboxToken, "client_secret=");
        }
        assertThat(String.join("\n", seen.subList(1, seen.size()))).as("the caller's bearer token")
                .doesNotContain(seen.get(0));
    }
}
