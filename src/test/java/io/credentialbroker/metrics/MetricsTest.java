package io.credentialbroker.metrics;

import static io.credentialbroker.testing.AzureAdStandIn.error;
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

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import io.credentialbroker.testing.AzureAdStandInResource;
import io.credentialbroker.testing.CallerIssuer;
import io.credentialbroker.testing.CallerIssuerResource;
import io.credentialbroker.testing.Fixtures;
import io.credentialbroker.testing.StandInTest;
import io.credentialbroker.testing.VaultStandIn;
import io.credentialbroker.testing.VaultStandInResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * The Prometheus series move with what the broker does, per environment, and hold nothing secret.
 */
@QuarkusTest
@WithTestResource(AzureAdStandInResource.class)
@WithTestResource(CallerIssuerResource.class)
@WithTestResource(VaultStandInResource.class)
class MetricsTest extends StandInTest {

    @Test
    @DisplayName("case 33: token requests, cache hits, Azure AD outcomes, expiry and Vault calls are counted; no secret in any label")
    void countsWhatHappensPerEnvironment() {
        String bearer = CallerIssuerResource.actAs(issuer, CallerIssuer.OPERATOR);
        clock.moveToNewDay();
        azureAd.reset();
        Fixtures.seed(vault);
        String token = newToken(SANDBOX, "sandbox");
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(issued(token, 3600)));
        azureAd.stub(tokenRequest(PRIMARY.domain()).willReturn(error(401, "invalid_client", 7000215)));
        double grantedBefore = value(scrape(), "broker_token_requests_total", "environment=\"sandbox\"",
                "outcome=\"granted\"");
        double hitsBefore = value(scrape(), "broker_token_cache_hits_total", "environment=\"sandbox\"");
        double rejectedBefore = value(scrape(), "broker_azure_ad_requests_total", "environment=\"primary\"",
                "error_code=\"AADSTS7000215\"");
        double failedBefore = value(scrape(), "broker_token_requests_total", "environment=\"primary\"",
                "outcome=\"failed\"", "error_code=\"credential_invalid\"");
        double readsBefore = value(scrape(), "broker_vault_requests_total", "operation=\"read\"",
                "outcome=\"success\"");

        given().post("/v1/environments/sandbox/token").then().statusCode(200);
        given().post("/v1/environments/sandbox/token").then().statusCode(200);
        given().post("/v1/environments/primary/token").then().statusCode(503);

        String metrics = scrape();
        assertThat(value(metrics, "broker_token_requests_total", "environment=\"sandbox\"", "outcome=\"granted\""))
                .isEqualTo(grantedBefore + 2);
        assertThat(value(metrics, "broker_token_cache_hits_total", "environment=\"sandbox\""))
                .isEqualTo(hitsBefore + 1);
        assertThat(value(metrics, "broker_azure_ad_requests_total", "environment=\"primary\"",
                "error_code=\"AADSTS7000215\"")).isEqualTo(rejectedBefore + 1);
        assertThat(value(metrics, "broker_token_requests_total", "environment=\"primary\"", "outcome=\"failed\"",
                "error_code=\"credential_invalid\"")).isEqualTo(failedBefore + 1);
        assertThat(value(metrics, "broker_token_expiry_seconds", "environment=\"sandbox\"")).isBetween(3000.0, 3600.0);
        assertThat(value(metrics, "broker_credential_version", "environment=\"sandbox\"")).isEqualTo(1.0);
        // at least primary's re-read of Vault after Azure AD refused its key
        assertThat(value(metrics, "broker_vault_requests_total", "operation=\"read\"", "outcome=\"success\""))
                .isGreaterThanOrEqualTo(readsBefore + 1);
        assertThat(metrics).contains("broker_azure_ad_request_duration_seconds_bucket")
                .doesNotContain(token, bearer, SANDBOX.clientSecret(), PRIMARY.clientSecret(), vault.rootToken(),
                        SANDBOX.domain(), "must never repeat");
    }

    @Test
    @DisplayName("case 3: Vault refuses by policy (403 permission denied): a stable code to callers, and the config-error series moves")
    void countsVaultPermissionDenials() {
        CallerIssuerResource.actAs(issuer, CallerIssuer.OPERATOR);
        clock.moveToNewDay();
        Fixtures.seed(vault);
        double deniedBefore = value(scrape(), "broker_vault_requests_total", "operation=\"read\"",
                "outcome=\"permission_denied\"");
        vault.denyNext(VaultStandIn.ALWAYS);
        try {
            // reading the current credential always asks Vault (a token request may be served from
            // the cache, or mint with a credential read earlier)
            given().get("/v1/environments/sandbox/credentials").then().statusCode(503)
                    .body("code", equalTo("vault_permission_denied"));

            assertThat(value(scrape(), "broker_vault_requests_total", "operation=\"read\"",
                    "outcome=\"permission_denied\"")).isEqualTo(deniedBefore + 1);
            assertThat(vault.count("GET", Fixtures.dataPath(SANDBOX))).as("no retry of a refusal").isEqualTo(1);
        } finally {
            vault.reset();
        }
    }
}
