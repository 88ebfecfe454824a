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
import java.time.Duration;
import java.util.UUID;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import io.credentialbroker.testing.AzureAdStandInResource;
import io.credentialbroker.testing.CallerIssuer;
import io.credentialbroker.testing.CallerIssuerResource;
import io.credentialbroker.testing.Fixtures;
import io.credentialbroker.testing.StandInTest;
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
class VaultKubernetesAuthTest extends StandInTest {

    private static final String CREDENTIALS = "/v1/environments/sandbox/credentials";
    private static final String LOGIN = "/v1/auth/kubernetes/login";
    private static final String RENEW = "/v1/auth/token/renew-self";

    @ConfigProperty(name = "quarkus.vault.authentication.kubernetes.jwt-token-path")
    Path serviceAccountToken;

    @Test
    void readsCredentialsAfterAKubernetesLogin() throws IOException {
        CallerIssuerResource.actAs(issuer, CallerIssuer.OPERATOR);
        clock.moveToNewDay();
        Fixtures.seed(vault);
        vault.acceptKubernetesLogin(VaultStandInResource.KUBERNETES_ROLE, Files.readString(serviceAccountToken));
        String token = newToken(SANDBOX, "sandbox");
        azureAd.stub(tokenRequest(SANDBOX.domain(), SANDBOX.clientId(), SANDBOX.clientSecret())
                .willReturn(issued(token, 3600)));

        given().post("/v1/environments/sandbox/token").then().statusCode(200).body("access_token", equalTo(token));

        assertThat(vault.count("POST", "/v1/auth/kubernetes/login")).isEqualTo(1);
        assertThat(vault.issuedTokenCount()).isEqualTo(1);
    }

    @Test
    @DisplayName("a Vault token within quarkus.vault.renew-grace-period is renewed before use, not replaced by a new login (case 7)")
    void renewsTheVaultTokenBeforeItExpires() throws IOException {
        CallerIssuerResource.actAs(issuer, CallerIssuer.OPERATOR);
        clock.moveToNewDay();
        Fixtures.seed(vault);
        vault.acceptKubernetesLogin(VaultStandInResource.KUBERNETES_ROLE, Files.readString(serviceAccountToken));
        // shorter than the grace period (1 h by default): due for renewal from the moment it is issued
        vault.kubernetesTokenTtl(Duration.ofMinutes(20));
        given().get(CREDENTIALS).then().statusCode(200);
        long logins = vault.count("POST", LOGIN);
        long renewals = vault.count(RENEW);

        given().get(CREDENTIALS).then().statusCode(200);

        assertThat(vault.count(RENEW)).as("renew-self calls").isGreaterThan(renewals);
        assertThat(vault.count("POST", LOGIN)).as("logins").isEqualTo(logins);
    }

    @Test
    @DisplayName("the kubelet rotated the service-account token file: the next Vault login sends the new token (case 9)")
    void logsInWithTheRotatedServiceAccountToken() throws IOException {
        CallerIssuerResource.actAs(issuer, CallerIssuer.OPERATOR);
        clock.moveToNewDay();
        Fixtures.seed(vault);
        String original = Files.readString(serviceAccountToken);
        vault.acceptKubernetesLogin(VaultStandInResource.KUBERNETES_ROLE, original);
        given().get(CREDENTIALS).then().statusCode(200);
        String rotated = "fake-projected-service-account-token-" + UUID.randomUUID();
        try {
            Files.writeString(serviceAccountToken, rotated);
            // Vault takes only the new token from now on, and the broker's Vault token has expired
            vault.acceptKubernetesLogin(VaultStandInResource.KUBERNETES_ROLE, rotated);
            vault.revokeIssuedTokens();
            long logins = vault.count("POST", LOGIN);

            given().get(CREDENTIALS).then().statusCode(200).body("version", equalTo(1));

            assertThat(vault.count("POST", LOGIN)).isEqualTo(logins + 1);
        } finally {
            Files.writeString(serviceAccountToken, original);
        }
    }
}
