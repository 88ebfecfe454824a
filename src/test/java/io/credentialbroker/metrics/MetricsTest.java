package io.credentialbroker.metrics;

import static io.credentialbroker.testing.AzureAdStandIn.error;
import static io.credentialbroker.testing.AzureAdStandIn.issued;
import static io.credentialbroker.testing.AzureAdStandIn.newToken;
import static io.credentialbroker.testing.AzureAdStandIn.tokenRequest;
import static io.credentialbroker.testing.Fixtures.PRIMARY;
import static io.credentialbroker.testing.Fixtures.SANDBOX;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import jakarta.inject.Inject;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import io.credentialbroker.testing.AzureAdStandIn;
import io.credentialbroker.testing.AzureAdStandInResource;
import io.credentialbroker.testing.AzureAdStandInResource.InjectAzureAd;
import io.credentialbroker.testing.CallerIssuer;
import io.credentialbroker.testing.CallerIssuerResource;
import io.credentialbroker.testing.CallerIssuerResource.InjectCallerIssuer;
import io.credentialbroker.testing.Fixtures;
import io.credentialbroker.testing.InjectVaultStandIn;
import io.credentialbroker.testing.TestClock;
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
class MetricsTest {

    @InjectAzureAd
    AzureAdStandIn azureAd;

    @InjectVaultStandIn
    VaultStandIn vault;

    @InjectCallerIssuer
    CallerIssuer issuer;

    @Inject
    TestClock clock;

    @Test
    @DisplayName("case 33: token requests, cache hits, Azure AD outcomes, expiry and Vault calls are counted; no secret in any label")
    void countsWhatHappensPerEnvironment() {
        String bearer = CallerIssuerResource.actAs(issuer, CallerIssuer.OPERATOR);
        clock.moveToNewDay();
        azureAd.reset();
        Fixtures.seed(vault);
        String token = newToken("sandbox");
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(issued(token, 3600)));
        azureAd.stub(tokenRequest(PRIMARY.domain()).willReturn(error(401, "invalid_client", 7000215)));
        double grantedBefore = value(metrics(), "broker_token_requests_total", "environment=\"sandbox\"",
                "outcome=\"granted\"");
        double hitsBefore = value(metrics(), "broker_token_cache_hits_total", "environment=\"sandbox\"");
        double rejectedBefore = value(metrics(), "broker_azure_ad_requests_total", "environment=\"primary\"",
                "error_code=\"AADSTS7000215\"");

        given().post("/v1/environments/sandbox/token").then().statusCode(200);
        given().post("/v1/environments/sandbox/token").then().statusCode(200);
        given().post("/v1/environments/primary/token").then().statusCode(503);

        String metrics = metrics();
        assertThat(value(metrics, "broker_token_requests_total", "environment=\"sandbox\"", "outcome=\"granted\""))
                .isEqualTo(grantedBefore + 2);
        assertThat(value(metrics, "broker_token_cache_hits_total", "environment=\"sandbox\""))
                .isEqualTo(hitsBefore + 1);
        assertThat(value(metrics, "broker_azure_ad_requests_total", "environment=\"primary\"",
                "error_code=\"AADSTS7000215\"")).isEqualTo(rejectedBefore + 1);
        assertThat(value(metrics, "broker_token_requests_total", "environment=\"primary\"", "outcome=\"failed\"",
                "error_code=\"credential_invalid\"")).isPositive();
        assertThat(value(metrics, "broker_token_expiry_seconds", "environment=\"sandbox\"")).isBetween(3000.0, 3600.0);
        assertThat(value(metrics, "broker_credential_version", "environment=\"sandbox\"")).isEqualTo(1.0);
        assertThat(value(metrics, "broker_vault_requests_total", "operation=\"read\"", "outcome=\"success\""))
                .isPositive();
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
        double deniedBefore = value(metrics(), "broker_vault_requests_total", "operation=\"read\"",
                "outcome=\"permission_denied\"");
        vault.denyNext(1);

        // lab: no other test here mints for it, so its credential was never read and is read now
        given().post("/v1/environments/lab/token").then().statusCode(503)
                .body("code", equalTo("vault_permission_denied"));

        assertThat(value(metrics(), "broker_vault_requests_total", "operation=\"read\"",
                "outcome=\"permission_denied\"")).isEqualTo(deniedBefore + 1);
        assertThat(vault.count("GET", Fixtures.dataPath(Fixtures.LAB))).as("no retry of a refusal").isEqualTo(1);
    }

    private static String metrics() {
        return given().accept("text/plain").get("/q/metrics").then().statusCode(200).extract().asString();
    }

    /**
     * The value of the one series of {@code name} whose labels contain all of {@code labels}; 0 if
     * none.
     */
    private static double value(String metrics, String name, String... labels) {
        Matcher line = Pattern.compile("^" + name + "\\{([^}]*)\\} (\\S+)$", Pattern.MULTILINE).matcher(metrics);
        double sum = 0;
        while (line.find()) {
            boolean all = true;
            for (String label : labels) {
                all &= line.group(1).contains(label);
            }
            if (all) {
                sum += Double.parseDouble(line.group(2));
            }
        }
        return sum;
    }
}
