package io.credentialbroker.credential;

import static io.credentialbroker.testing.AzureAdStandIn.error;
import static io.credentialbroker.testing.AzureAdStandIn.issued;
import static io.credentialbroker.testing.AzureAdStandIn.newToken;
import static io.credentialbroker.testing.AzureAdStandIn.tokenRequest;
import static io.credentialbroker.testing.Fixtures.SANDBOX;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import jakarta.inject.Inject;

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
import io.credentialbroker.token.TokenService;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * A credential another replica (or an operator with the Vault CLI) stored is picked up within the
 * watch interval, before Azure AD ever refuses the old key. The watch runs every 100 ms here.
 */
@QuarkusTest
@TestProfile(ReplicaConvergenceTest.FastWatch.class)
@WithTestResource(AzureAdStandInResource.class)
@WithTestResource(CallerIssuerResource.class)
@WithTestResource(VaultStandInResource.class)
class ReplicaConvergenceTest extends StandInTest {

    private static final Duration WATCH_INTERVAL = Duration.ofMillis(100);
    private static final String METADATA_PATH = "/v1/secret/metadata/" + SANDBOX.vaultPath();

    public static class FastWatch implements QuarkusTestProfile {

        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("broker.rotation.watch-interval", WATCH_INTERVAL.toMillis() + "MS");
        }
    }

    @Inject
    TokenService tokens;

    @BeforeEach
    void coldStart() {
        CallerIssuerResource.actAs(issuer, CallerIssuer.OPERATOR);
        clock.moveToNewDay();
        azureAd.reset();
        Fixtures.seed(vault);
        // as on a replica that has minted with version 1 (whatever an earlier test switched to)
        tokens.activate("sandbox", new PartnerCredential(SANDBOX.clientId(), new ClientSecret(SANDBOX.clientSecret()),
                SANDBOX.domain(), 1, null));
    }

    @Test
    @DisplayName("a version written straight into Vault is used for the next token within the watch interval; the old key is never refused first")
    void picksUpAVersionStoredByAnotherReplica() {
        String before = newToken(SANDBOX, "before");
        azureAd.stub(tokenRequest(SANDBOX.domain(), SANDBOX.clientId(), SANDBOX.clientSecret())
                .willReturn(issued(before, 3600)));
        given().post("/v1/environments/sandbox/token").then().statusCode(200).body("access_token", equalTo(before));

        Fixtures.Account rotated = SANDBOX.withSecret("fake-sandbox-secret-rotated-" + UUID.randomUUID());
        vault.put(VaultStandIn.DEFAULT_MOUNT, SANDBOX.vaultPath(), rotated.vaultData());

        await().atMost(WATCH_INTERVAL.multipliedBy(30)).until(() -> tokens.activeVersion("sandbox"),
                equalTo(Optional.of(2)));

        // the old key is revoked now; the broker does not need to find that out
        azureAd.reset();
        azureAd.stub(tokenRequest(SANDBOX.domain(), SANDBOX.clientId(), SANDBOX.clientSecret())
                .willReturn(error(401, "invalid_client", 7000215)));
        String after = newToken(SANDBOX, "after");
        azureAd.stub(tokenRequest(SANDBOX.domain(), rotated.clientId(), rotated.clientSecret())
                .willReturn(issued(after, 3600)));
        clock.moveToNewDay();
        given().post("/v1/environments/sandbox/token").then().statusCode(200).body("access_token", equalTo(after))
                .body("credential_version", equalTo(2));
        assertThat(azureAd.tokenRequests(SANDBOX.domain())).isEqualTo(1);
    }

    @Test
    @DisplayName("while nothing changes the watch reads metadata only, never the secret")
    void readsOnlyMetadataWhileNothingChanges() {
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(issued(newToken(SANDBOX, "sandbox"), 3600)));
        given().post("/v1/environments/sandbox/token").then().statusCode(200);
        long metadataReads = vault.count("GET", METADATA_PATH);
        long dataReads = vault.count("GET", Fixtures.dataPath(SANDBOX));

        await().atMost(WATCH_INTERVAL.multipliedBy(30))
                .until(() -> vault.count("GET", METADATA_PATH) >= metadataReads + 3);

        assertThat(vault.count("GET", Fixtures.dataPath(SANDBOX))).isEqualTo(dataReads);
    }
}
