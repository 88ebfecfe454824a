package io.credentialbroker.credential.vault;

import static io.credentialbroker.testing.AzureAdStandIn.issued;
import static io.credentialbroker.testing.AzureAdStandIn.newToken;
import static io.credentialbroker.testing.AzureAdStandIn.tokenRequest;
import static io.credentialbroker.testing.Fixtures.PRIMARY;
import static io.credentialbroker.testing.Fixtures.SANDBOX;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import io.credentialbroker.testing.AzureAdStandInResource;
import io.credentialbroker.testing.CallerIssuer;
import io.credentialbroker.testing.CallerIssuerResource;
import io.credentialbroker.testing.Fixtures;
import io.credentialbroker.testing.StandInTest;
import io.credentialbroker.testing.VaultStandIn;
import io.credentialbroker.testing.VaultStandInResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * A sandbox-only deployment's Vault identity holds the sandbox policy alone: its broker serves and
 * rotates sandbox, and Vault refuses it primary's credential (reliability case 43). The stand-in
 * enforces the policy as Vault does, on the exact KV v2 paths, with no default policy.
 */
@QuarkusTest
@WithTestResource(AzureAdStandInResource.class)
@WithTestResource(CallerIssuerResource.class)
@WithTestResource(value = VaultStandInResource.class, initArgs = @ResourceArg(name = "auth", value = "kubernetes"))
class VaultLeastPrivilegeTest extends StandInTest {

    private static final String LOGIN = "/v1/auth/kubernetes/login";

    @ConfigProperty(name = "quarkus.vault.authentication.kubernetes.jwt-token-path")
    Path serviceAccountToken;

    @BeforeEach
    void sandboxOnlyIdentity() throws IOException {
        CallerIssuerResource.actAs(issuer, CallerIssuer.OPERATOR);
        clock.moveToNewDay();
        azureAd.reset();
        Fixtures.seed(vault);
        vault.acceptKubernetesLogin(VaultStandInResource.KUBERNETES_ROLE, Files.readString(serviceAccountToken));
        vault.writePolicy("credential-broker-sandbox", environmentPolicy(SANDBOX));
        vault.writePolicy("credential-broker-primary", environmentPolicy(PRIMARY));
        vault.bindRolePolicies(VaultStandInResource.KUBERNETES_ROLE, "credential-broker-sandbox");
    }

    @Test
    @DisplayName("case 43: a sandbox-only identity serves sandbox and gets vault_permission_denied on primary, with no re-login; sandbox serves on")
    void servesSandboxAndIsRefusedPrimary() {
        String sandboxToken = newToken(SANDBOX, "sandbox");
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(issued(sandboxToken, 3600)));
        azureAd.stub(tokenRequest(PRIMARY.domain()).willReturn(issued(newToken(PRIMARY, "primary"), 3600)));

        given().post("/v1/environments/sandbox/token").then().statusCode(200)
                .body("access_token", equalTo(sandboxToken));
        // logged in to this Vault (a token cached from an earlier test would cost a login of its own)
        given().get("/v1/environments/sandbox/credentials").then().statusCode(200);
        long logins = vault.count("POST", LOGIN);
        assertThat(logins).isPositive();

        given().post("/v1/environments/primary/token").then().statusCode(503)
                .body("code", equalTo("vault_permission_denied"));
        given().get("/v1/environments/primary/credentials").then().statusCode(503)
                .body("code", equalTo("vault_permission_denied"));

        // a policy refusal is not an expired token: no new login, and nothing of primary's reached Azure AD
        assertThat(vault.count("POST", LOGIN)).isEqualTo(logins);
        assertThat(azureAd.tokenRequests(PRIMARY.domain())).isZero();
        given().post("/v1/environments/sandbox/token").then().statusCode(200)
                .body("access_token", equalTo(sandboxToken));
    }

    @Test
    @DisplayName("the environment's own policy is enough to rotate its key: read and update on the credential (no create), its rotation records under rotations/*")
    void rotatesWithReadAndUpdateOnly() {
        String newSecret = "fake-sandbox-secret-new-" + UUID.randomUUID();
        azureAd.stub(tokenRequest(SANDBOX.domain(), SANDBOX.clientId(), newSecret)
                .willReturn(issued(newToken(SANDBOX, "proof"), 3600)));

        given().contentType("application/json").header("If-Match", "\"1\"")
                .body("{\"client_secret\": \"" + newSecret + "\"}").put("/v1/environments/sandbox/credentials").then()
                .statusCode(200).body("version", equalTo(2));

        assertThat(vault.currentVersion(VaultStandIn.DEFAULT_MOUNT, SANDBOX.vaultPath())).hasValue(2);
        assertThat(vault.currentVersion(VaultStandIn.DEFAULT_MOUNT, PRIMARY.vaultPath())).hasValue(1);
        assertThat(vault.currentVersion(VaultStandIn.DEFAULT_MOUNT, SANDBOX.vaultPath() + "/rotations/index"))
                .as("the rotation was recorded beside the credential").isPresent();
    }

    /**
     * One environment's policy, in the shape deploy/vault writes: the credential's exact paths (read
     * and update), and its rotation records (the one wildcard).
     */
    static String environmentPolicy(Fixtures.Account account) {
        return """
                path "secret/data/%1$s" {
                  capabilities = ["read", "update"]
                }
                path "secret/metadata/%1$s" {
                  capabilities = ["read"]
                }
                path "secret/data/%1$s/rotations/*" {
                  capabilities = ["create", "read", "update"]
                }
                path "secret/metadata/%1$s/rotations/*" {
                  capabilities = ["read", "delete"]
                }
                """.formatted(account.vaultPath());
    }
}
