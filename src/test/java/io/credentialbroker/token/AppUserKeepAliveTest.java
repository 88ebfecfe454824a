package io.credentialbroker.token;

import static io.credentialbroker.testing.AzureAdStandIn.issuedForUser;
import static io.credentialbroker.testing.AzureAdStandIn.newUserToken;
import static io.credentialbroker.testing.AzureAdStandIn.refreshTokenRequest;
import static io.credentialbroker.testing.Fixtures.LAB;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;

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
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;

/**
 * With no caller asking, a consent's refresh token is still exchanged once its last exchange is
 * {@code broker.app-user.keep-alive} ago, so Entra's 90 days of inactivity are never reached; not
 * before. The periodic check runs every 50 ms here; days pass on the test clock.
 */
@QuarkusTest
@TestProfile(AppUserKeepAliveTest.FastCheck.class)
@WithTestResource(AzureAdStandInResource.class)
@WithTestResource(CallerIssuerResource.class)
@WithTestResource(VaultStandInResource.class)
class AppUserKeepAliveTest extends StandInTest {

    private static final String RECORD = LAB.vaultPath() + "/app-user";
    private static final String MOUNT = VaultStandIn.DEFAULT_MOUNT;
    private static final String ADMIN = "admin-agent@fake-lab.onmicrosoft.com";

    public static class FastCheck implements QuarkusTestProfile {

        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("broker.token.check-interval", "50MS", "broker.app-user.keep-alive", "7D");
        }
    }

    private final String granted = "fake-refresh-token-granted-" + UUID.randomUUID();
    private final String installed = "fake-refresh-token-installed-" + UUID.randomUUID();
    private final String kept = "fake-refresh-token-kept-" + UUID.randomUUID();

    @BeforeEach
    void seed() {
        CallerIssuerResource.actAs(issuer, CallerIssuer.OPERATOR);
        clock.moveToNewDay();
        azureAd.reset();
        Fixtures.seed(vault);
    }

    @Test
    @DisplayName("keep-alive: no exchange before 7 days without one, then exactly one, its refresh token written back")
    void exchangesAtLeastEveryKeepAliveWithNoCallers() throws InterruptedException {
        azureAd.stub(refreshTokenRequest(LAB.domain(), granted)
                .willReturn(issuedForUser(newUserToken(LAB, ADMIN, true), installed, 3600)));
        given().contentType(ContentType.JSON).header("If-Match", "\"0\"")
                .body("{\"refresh_token\":\"" + granted + "\"}")
                .put("/v1/environments/lab/app-user").then().statusCode(200);
        azureAd.stub(refreshTokenRequest(LAB.domain(), installed)
                .willReturn(issuedForUser(newUserToken(LAB, ADMIN, true), kept, 3600)));

        clock.advance(Duration.ofDays(7).minusMinutes(5));
        Thread.sleep(500); // ten checks: none may exchange yet
        assertThat(exchangesOf(installed)).isZero();
        assertThat(vault.currentVersion(MOUNT, RECORD)).hasValue(1);

        clock.advance(Duration.ofMinutes(6));
        Instant due = clock.instant();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (vault.currentVersion(MOUNT, RECORD).orElse(0) < 2 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }

        assertThat(vault.currentVersion(MOUNT, RECORD)).hasValue(2);
        Map<String, Object> stored = vault.data(MOUNT, RECORD, 2).orElseThrow();
        assertThat(stored).containsEntry("refresh_token", kept);
        assertThat(Instant.parse(stored.get("last_exchanged_at").toString())).isAfterOrEqualTo(due);
        Thread.sleep(300); // and the next checks leave it alone: the last exchange is fresh again
        assertThat(exchangesOf(installed)).isEqualTo(1);
        assertThat(vault.currentVersion(MOUNT, RECORD)).hasValue(2);
    }

    private long exchangesOf(String refreshToken) {
        return azureAd.requests(LAB.domain()).stream()
                .filter(request -> request.getBodyAsString().contains("refresh_token=" + refreshToken)).count();
    }
}
