package io.credentialbroker.api;

import static io.credentialbroker.testing.AzureAdStandIn.issued;
import static io.credentialbroker.testing.AzureAdStandIn.newToken;
import static io.credentialbroker.testing.AzureAdStandIn.tokenRequest;
import static io.credentialbroker.testing.Fixtures.PRIMARY;
import static io.credentialbroker.testing.Fixtures.SANDBOX;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;

import java.net.URL;

import org.junit.jupiter.api.BeforeEach;
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
import io.credentialbroker.testing.PackagedApplicationProfile;
import io.credentialbroker.testing.VaultStandIn;
import io.credentialbroker.testing.VaultStandInResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusIntegrationTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.specification.RequestSpecification;

/**
 * The token endpoint of the packaged application (the JVM jar here, the native binary where one is
 * built), logging in to Vault the way a pod does: Kubernetes auth with a projected service-account
 * token read from a file, as the Helm chart and deploy/ configure it.
 *
 * Callers present JWTs signed by a real issuer whose keys the packaged app fetches over loopback.
 */
@QuarkusIntegrationTest
@TestProfile(PackagedApplicationProfile.class)
@WithTestResource(AzureAdStandInResource.class)
@WithTestResource(CallerIssuerResource.class)
@WithTestResource(value = VaultStandInResource.class, initArgs = @ResourceArg(name = "auth", value = "kubernetes"))
class TokenEndpointIT {

    @InjectAzureAd
    AzureAdStandIn azureAd;

    @InjectVaultStandIn
    VaultStandIn vault;

    @InjectCallerIssuer
    CallerIssuer issuer;

    @TestHTTPResource("/")
    URL broker;

    @BeforeEach
    void seedOnce() {
        azureAd.reset();
        // No VaultStandIn#reset(): it would also forget the service-account token the resource made
        // Vault accept, and the test cannot read that token's file path from the packaged app's config.
        for (Fixtures.Account account : new Fixtures.Account[]{SANDBOX, PRIMARY}) {
            if (vault.currentVersion(VaultStandIn.DEFAULT_MOUNT, account.vaultPath()).isEmpty()) {
                vault.put(VaultStandIn.DEFAULT_MOUNT, account.vaultPath(), account.vaultData());
            }
        }
    }

    @Test
    @DisplayName("the packaged broker mints a sandbox token from the sandbox credential it reads from Vault")
    void issuesSandboxTokenFromVaultHeldCredential() {
        String sandboxToken = newToken(SANDBOX, "sandbox");
        azureAd.stub(tokenRequest(SANDBOX.domain(), SANDBOX.clientId(), SANDBOX.clientSecret())
                .willReturn(issued(sandboxToken, 3599)));

        as(CallerIssuer.BILLING).post("/v1/environments/sandbox/token").then()
                .statusCode(200)
                .header("Broker-Environment", "sandbox")
                .header("Cache-Control", "no-store")
                .contentType("application/json")
                .body("environment", equalTo("sandbox"))
                .body("token_type", equalTo("Bearer"))
                .body("access_token", equalTo(sandboxToken))
                .body("expires_in", equalTo(600))
                .body("expires_at", notNullValue())
                .body("resource", equalTo("https://api.partnercenter.microsoft.com"))
                .body("credential_version", equalTo(1));

        assertThat(azureAd.tokenRequests(SANDBOX.domain())).isEqualTo(1);
        assertThat(azureAd.tokenRequests(PRIMARY.domain())).isZero();
    }

    @Test
    @DisplayName("an environment the broker does not serve is a 404 problem that names it, to a caller granted all")
    void answersUnknownEnvironmentWith404() {
        as(CallerIssuer.OPERATOR).post("/v1/environments/staging/token").then()
                .statusCode(404)
                .contentType(Problem.MEDIA_TYPE)
                .body("status", equalTo(404))
                .body("title", equalTo("Unknown environment"))
                .body("detail", equalTo("The broker serves no environment named 'staging'."));

        assertThat(azureAd.server().getAllServeEvents()).isEmpty();
    }

    @Test
    @DisplayName("cases 27, 28: no bearer token is 401; a sandbox-only caller asking for primary is 403")
    void deniesUnauthenticatedAndUngrantedCallers() {
        given().baseUri(broker.toString()).post("/v1/environments/sandbox/token").then()
                .statusCode(401)
                .header("WWW-Authenticate", containsString("Bearer"))
                .contentType(Problem.MEDIA_TYPE);
        as(CallerIssuer.BILLING).post("/v1/environments/primary/token").then()
                .statusCode(403)
                .contentType(Problem.MEDIA_TYPE);

        assertThat(azureAd.server().getAllServeEvents()).isEmpty();
    }

    private RequestSpecification as(String caller) {
        return given().baseUri(broker.toString()).header("Authorization", "Bearer " + issuer.token(caller));
    }
}
