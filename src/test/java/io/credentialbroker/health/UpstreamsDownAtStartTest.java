package io.credentialbroker.health;

import static io.credentialbroker.testing.AzureAdStandIn.error;
import static io.credentialbroker.testing.AzureAdStandIn.tokenRequest;
import static io.credentialbroker.testing.Fixtures.SANDBOX;
import static io.credentialbroker.testing.ManagementInterface.management;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;

import java.util.Map;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import io.credentialbroker.testing.AzureAdStandIn;
import io.credentialbroker.testing.AzureAdStandInResource;
import io.credentialbroker.testing.AzureAdStandInResource.InjectAzureAd;
import io.credentialbroker.testing.CallerIssuer;
import io.credentialbroker.testing.CallerIssuerResource;
import io.credentialbroker.testing.CallerIssuerResource.InjectCallerIssuer;
import io.credentialbroker.testing.InjectVaultStandIn;
import io.credentialbroker.testing.VaultStandIn;
import io.credentialbroker.testing.VaultStandInResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/** A broker that starts while Vault is sealed and Azure AD is down: alive, started, not ready. */
@QuarkusTest
@TestProfile(UpstreamsDownAtStartTest.WarmUp.class)
@WithTestResource(AzureAdStandInResource.class)
@WithTestResource(CallerIssuerResource.class)
@WithTestResource(value = VaultStandInResource.class, initArgs = @ResourceArg(name = "start", value = "sealed"))
class UpstreamsDownAtStartTest {

    public static class WarmUp implements QuarkusTestProfile {

        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("broker.token.warm-up", "true");
        }
    }

    @InjectAzureAd
    AzureAdStandIn azureAd;

    @InjectVaultStandIn
    VaultStandIn vault;

    @InjectCallerIssuer
    CallerIssuer issuer;

    @Test
    @DisplayName("case 37: Vault and Azure AD both down and no token: ready DOWN, live UP, callers a fast 503")
    void isAliveButNotReady() {
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(error(503, "temporarily_unavailable", 0)));

        management().get("/q/health/live").then().statusCode(200);
        management().get("/q/health/started").then().statusCode(200);
        management().get("/q/health/ready").then().statusCode(503)
                .body("checks.find { it.name == 'tokens' }.data.'sandbox.last_error'", equalTo("vault_unavailable"));
        CallerIssuerResource.actAs(issuer, CallerIssuer.OPERATOR);
        given().post("/v1/environments/sandbox/token").then().statusCode(503)
                .header("Retry-After", org.hamcrest.Matchers.notNullValue())
                .body("code", equalTo("vault_unavailable"));
        vault.unseal();
    }
}
