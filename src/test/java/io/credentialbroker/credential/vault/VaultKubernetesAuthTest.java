package io.credentialbroker.credential.vault;

import static io.credentialbroker.testing.AzureAdStandIn.issued;
import static io.credentialbroker.testing.AzureAdStandIn.newToken;
import static io.credentialbroker.testing.AzureAdStandIn.tokenRequest;
import static io.credentialbroker.testing.Fixtures.SANDBOX;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
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
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * With Kubernetes auth configured, the broker logs in to Vault with its service-account token, as a
 * pod does.
 */
@QuarkusTest
@WithTestResource(AzureAdStandInResource.class)
@WithTestResource(CallerIssuerResource.class)
@WithTestResource(value = VaultStandInResource.class, initArgs = @ResourceArg(name = "auth", value = "kubernetes"))
class VaultKubernetesAuthTest {

    @InjectAzureAd
    AzureAdStandIn azureAd;

    @InjectVaultStandIn
    VaultStandIn vault;

    @InjectCallerIssuer
    CallerIssuer issuer;

    @Inject
    TestClock clock;

    @ConfigProperty(name = "quarkus.vault.authentication.kubernetes.jwt-token-path")
    Path serviceAccountToken;

    @Test
    void readsCredentialsAfterAKubernetesLogin() throws IOException {
        CallerIssuerResource.actAs(issuer, CallerIssuer.OPERATOR);
        clock.moveToNewDay();
        Fixtures.seed(vault);
        vault.acceptKubernetesLogin(VaultStandInResource.KUBERNETES_ROLE, Files.readString(serviceAccountToken));
        String token = newToken("sandbox");
        azureAd.stub(tokenRequest(SANDBOX.domain(), SANDBOX.clientId(), SANDBOX.clientSecret())
                .willReturn(issued(token, 3600)));

        given().post("/v1/environments/sandbox/token").then().statusCode(200).body("access_token", equalTo(token));

        assertThat(vault.count("POST", "/v1/auth/kubernetes/login")).isEqualTo(1);
        assertThat(vault.issuedTokenCount()).isEqualTo(1);
    }
}
