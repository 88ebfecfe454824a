package io.credentialbroker.token;

import static io.credentialbroker.testing.AzureAdStandIn.issuedForUser;
import static io.credentialbroker.testing.AzureAdStandIn.newUserToken;
import static io.credentialbroker.testing.AzureAdStandIn.refreshTokenRequest;
import static io.credentialbroker.testing.Fixtures.LAB;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import jakarta.inject.Inject;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;

import io.credentialbroker.audit.AuditLog;
import io.credentialbroker.config.BrokerConfig;
import io.credentialbroker.credential.AppUserConsents;
import io.credentialbroker.credential.vault.VaultCredentialStore;
import io.credentialbroker.credential.vault.VaultStores;
import io.credentialbroker.environment.Environment;
import io.credentialbroker.environment.EnvironmentRegistry;
import io.credentialbroker.testing.AzureAdStandIn;
import io.credentialbroker.testing.AzureAdStandInResource;
import io.credentialbroker.testing.CallerIssuer;
import io.credentialbroker.testing.CallerIssuerResource;
import io.credentialbroker.testing.CapturedAudit;
import io.credentialbroker.testing.Fixtures;
import io.credentialbroker.testing.StandInTest;
import io.credentialbroker.testing.VaultStandIn;
import io.credentialbroker.testing.VaultStandInResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;

/**
 * Two replicas exchange one environment's refresh token at once (reliability case 48): the broker
 * under test is replica A; replica B is a second app+user exchange and cache, with its own Vault
 * client, against the same Vault stand-in, minting through the same pinned minter. Azure AD holds
 * both answers until both requests have arrived, so both exchanges start from the same refresh
 * token, and each answer carries a refresh token of its own.
 */
@QuarkusTest
@WithTestResource(AzureAdStandInResource.class)
@WithTestResource(CallerIssuerResource.class)
@WithTestResource(VaultStandInResource.class)
class AppUserWriteBackRaceTest extends StandInTest {

    private static final String RECORD = LAB.vaultPath() + "/app-user";
    private static final String MOUNT = VaultStandIn.DEFAULT_MOUNT;
    private static final String ADMIN = "admin-agent@fake-lab.onmicrosoft.com";

    @Inject
    TokenMinter minter;

    @Inject
    AuditLog auditLog;

    @Inject
    BrokerConfig config;

    @Inject
    EnvironmentRegistry environments;

    private final String granted = "fake-refresh-token-granted-" + UUID.randomUUID();
    private final String first = "fake-refresh-token-first-" + UUID.randomUUID();
    private ExecutorService mintingOfB;
    private CapturedAudit audit;

    @BeforeEach
    void seed() {
        CallerIssuerResource.actAs(issuer, CallerIssuer.OPERATOR);
        clock.moveToNewDay();
        azureAd.reset();
        Fixtures.seed(vault);
        mintingOfB = Executors.newSingleThreadExecutor();
        audit = CapturedAudit.start();
    }

    @AfterEach
    void stop() {
        audit.close();
        mintingOfB.shutdownNow();
    }

    @Test
    @DisplayName("case 48: two replicas exchange at once; exactly one write-back wins, the other re-reads and serves its own token, and its next exchange starts from the winner's refresh token")
    void oneWriteBackWinsAndBothServe() throws Exception {
        azureAd.stub(refreshTokenRequest(LAB.domain(), granted)
                .willReturn(issuedForUser(newUserToken(LAB, ADMIN, true), first, 3600)));
        given().contentType(ContentType.JSON).header("If-Match", "\"0\"")
                .body("{\"refresh_token\":\"" + granted + "\"}")
                .put("/v1/environments/lab/app-user").then().statusCode(200);

        Environment lab = environments.find("lab").orElseThrow();
        VaultCredentialStore storeOfB = VaultStores.against(vault, Duration.ofSeconds(2));
        AppUserExchange exchangeOfB = new AppUserExchange(new AppUserConsents(storeOfB), minter, true, auditLog,
                clock, TokenCacheObserver.NONE);
        TokenCache cacheOfB = new TokenCache(lab, storeOfB, exchangeOfB, TokenLifetimePolicy.from(config.token()),
                RetryPolicy.from(config.token()), clock, mintingOfB, TokenCacheObserver.NONE);

        // an hour on, A's token is due; both replicas exchange the stored refresh token, answered together
        clock.advance(Duration.ofMinutes(61));
        String served = newUserToken(LAB, ADMIN, true);
        azureAd.stub(refreshTokenRequest(LAB.domain(), first).willReturn(AzureAdStandIn.held(racingAnswer(served))
                .withTransformers(AzureAdStandIn.HELD, "response-template")));
        CompletableFuture<Integer> replicaA = CompletableFuture
                .supplyAsync(() -> given().post("/v1/environments/lab/app-user-token").then().extract().statusCode());
        CompletableFuture<TokenGrant> replicaB = cacheOfB.grant();
        azureAd.awaitHeld(2);
        azureAd.release();

        assertThat(replicaA.get(10, TimeUnit.SECONDS)).isEqualTo(200);
        assertThat(replicaB.get(10, TimeUnit.SECONDS).token().value()).isEqualTo(served);
        // exactly one write-back landed on the installed version; the loser wrote nothing
        assertThat(vault.currentVersion(MOUNT, RECORD)).hasValue(2);
        String winner = vault.data(MOUNT, RECORD, 2).orElseThrow().get("refresh_token").toString();
        assertThat(azureAd.requests(LAB.domain()))
                .filteredOn(request -> request.getBodyAsString().contains("refresh_token=" + first)).hasSize(2);
        assertThat(winner).startsWith("fake-refresh-token-racing-");
        assertThat(audit.events("lab")).filteredOn(event -> event.path("action").asText().equals("app_user.exchange"))
                .singleElement();

        // B's next exchange sends the winner's refresh token, not the one its own exchange got back
        clock.advance(Duration.ofMinutes(61));
        String third = "fake-refresh-token-third-" + UUID.randomUUID();
        azureAd.stub(refreshTokenRequest(LAB.domain(), winner)
                .willReturn(issuedForUser(newUserToken(LAB, ADMIN, true), third, 3600)));
        assertThat(cacheOfB.grant().get(10, TimeUnit.SECONDS).token().value()).isNotEqualTo(served);
        assertThat(vault.currentVersion(MOUNT, RECORD)).hasValue(3);
        assertThat(vault.data(MOUNT, RECORD, 3).orElseThrow()).containsEntry("refresh_token", third);
    }

    /** An app+user answer whose refresh token is new for every request it answers. */
    private static ResponseDefinitionBuilder racingAnswer(String accessToken) {
        return issuedForUser(accessToken,
                "fake-refresh-token-racing-{{randomValue length=24 type='ALPHANUMERIC'}}", 3600);
    }
}
