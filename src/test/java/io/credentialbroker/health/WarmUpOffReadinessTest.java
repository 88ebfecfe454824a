package io.credentialbroker.health;

import static io.credentialbroker.testing.AzureAdStandIn.issued;
import static io.credentialbroker.testing.AzureAdStandIn.newToken;
import static io.credentialbroker.testing.AzureAdStandIn.tokenRequest;
import static io.credentialbroker.testing.Fixtures.SANDBOX;
import static io.credentialbroker.testing.ManagementInterface.management;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import java.util.Map;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import io.credentialbroker.testing.AzureAdStandInResource;
import io.credentialbroker.testing.CallerIssuer;
import io.credentialbroker.testing.CallerIssuerResource;
import io.credentialbroker.testing.StandInTest;
import io.credentialbroker.testing.VaultStandInResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * With warm-up off nothing is minted until a caller asks, and a caller can only ask a ready pod:
 * the pod is ready before anything was asked of Vault or Azure AD (reliability case 46). A profile
 * of its own, so no other test has minted first.
 */
@QuarkusTest
@TestProfile(WarmUpOffReadinessTest.WarmUpOff.class)
@WithTestResource(AzureAdStandInResource.class)
@WithTestResource(CallerIssuerResource.class)
@WithTestResource(value = VaultStandInResource.class, initArgs = @ResourceArg(name = "start", value = "seeded"))
class WarmUpOffReadinessTest extends StandInTest {

    public static class WarmUpOff implements QuarkusTestProfile {

        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("broker.token.warm-up", "false");
        }
    }

    @Test
    @DisplayName("case 46: warm-up off, nothing asked yet: started and ready, every environment untried; the first request mints")
    void isReadyBeforeAnyRequest() {
        management().get("/q/health/started").then().statusCode(200);
        management().get("/q/health/ready").then().statusCode(200)
                .body("checks.find { it.name == 'tokens' }.data.'sandbox.state'", equalTo("unavailable"))
                .body("checks.find { it.name == 'tokens' }.data.'sandbox.last_error'", equalTo(null));
        assertThat(vault.requests()).as("no credential was read from Vault")
                .filteredOn(request -> request.path().contains("/data/") || request.path().contains("/metadata/"))
                .isEmpty();
        assertThat(azureAd.tokenRequests(SANDBOX.domain())).isZero();

        String token = newToken(SANDBOX, "first");
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(issued(token, 3600)));
        CallerIssuerResource.actAs(issuer, CallerIssuer.OPERATOR);
        given().post("/v1/environments/sandbox/token").then().statusCode(200).body("access_token", equalTo(token));
        management().get("/q/health/ready").then().statusCode(200)
                .body("checks.find { it.name == 'tokens' }.data.'sandbox.state'", equalTo("fresh"));
    }
}
