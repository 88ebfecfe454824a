package io.credentialbroker.consent;

import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static io.credentialbroker.testing.AzureAdStandIn.error;
import static io.credentialbroker.testing.AzureAdStandIn.issued;
import static io.credentialbroker.testing.AzureAdStandIn.issuedForUser;
import static io.credentialbroker.testing.AzureAdStandIn.newToken;
import static io.credentialbroker.testing.AzureAdStandIn.newUserToken;
import static io.credentialbroker.testing.AzureAdStandIn.refreshTokenRequest;
import static io.credentialbroker.testing.AzureAdStandIn.tokenRequest;
import static io.credentialbroker.testing.Fixtures.LAB;
import static io.credentialbroker.testing.Fixtures.PRIMARY;
import static io.credentialbroker.testing.ManagementInterface.management;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;

import java.time.Duration;
import java.util.UUID;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import io.credentialbroker.api.Problem;
import io.credentialbroker.testing.AzureAdStandInResource;
import io.credentialbroker.testing.CallerIssuer;
import io.credentialbroker.testing.CallerIssuerResource;
import io.credentialbroker.testing.CapturedAudit;
import io.credentialbroker.testing.CapturedLogs;
import io.credentialbroker.testing.Fixtures;
import io.credentialbroker.testing.ScrapedMetrics;
import io.credentialbroker.testing.StandInTest;
import io.credentialbroker.testing.VaultStandIn;
import io.credentialbroker.testing.VaultStandInResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.ValidatableResponse;

/**
 * App+user tokens end to end over real HTTP (reliability cases 47 to 50 and 52): a refresh token
 * installed by ops is proved by one exchange and the exchange's successor stored; callers granted
 * {@code app-user-token} get tokens labelled {@code app+user}; each exchange's new refresh token is
 * in Vault before its access token is served; Azure AD's refusals become states ops can act on.
 * Environment {@code lab} is used, so the app-only environments of other tests are untouched.
 */
@QuarkusTest
@WithTestResource(AzureAdStandInResource.class)
@WithTestResource(CallerIssuerResource.class)
@WithTestResource(VaultStandInResource.class)
class AppUserTokenTest extends StandInTest {

    private static final String RECORD = LAB.vaultPath() + "/app-user";
    private static final String MOUNT = VaultStandIn.DEFAULT_MOUNT;
    private static final String ADMIN = "admin-agent@fake-lab.onmicrosoft.com";

    /** Generated per run, so a leak check cannot pass by a token being spelled differently. */
    private final String granted = "fake-refresh-token-granted-" + UUID.randomUUID();
    private final String second = "fake-refresh-token-second-" + UUID.randomUUID();
    private final String third = "fake-refresh-token-third-" + UUID.randomUUID();
    private CapturedAudit audit;

    @BeforeEach
    void seed() {
        CallerIssuerResource.actAs(issuer, CallerIssuer.OPERATOR);
        clock.moveToNewDay(); // whatever an earlier test cached has expired, and its backoff has passed
        azureAd.reset();
        Fixtures.seed(vault);
        audit = CapturedAudit.start();
    }

    @AfterEach
    void stopCapturing() {
        audit.close();
    }

    @Test
    @DisplayName("cases 47 and 52: an installed refresh token is proved and its successor stored; callers get app+user tokens; every exchange's refresh token is in Vault before its token is served; none ever leaves")
    void installsServesAndWritesBack() {
        String proofToken = newUserToken(LAB, ADMIN, true);
        azureAd.stub(refreshTokenRequest(LAB.domain(), granted).willReturn(issuedForUser(proofToken, second, 3600)));

        String answers;
        try (CapturedLogs logs = CapturedLogs.asConfigured()) {
            answers = install("\"0\"", granted).statusCode(200).header("ETag", "\"1\"")
                    .body("installed", equalTo(true)).body("version", equalTo(1)).body("user", equalTo(ADMIN))
                    .body("mfa", equalTo(true)).extract().asString();
            // what is stored is the refresh token the proving exchange returned, not the one given
            assertThat(vault.data(MOUNT, RECORD, 1).orElseThrow()).containsEntry("refresh_token", second)
                    .containsEntry("user", ADMIN).containsEntry("mfa", "true");

            // the proof's token is the first one served, labelled app+user; app-only tokens say "app"
            answers += appUserToken().statusCode(200).header("Broker-Environment", "lab")
                    .header("Cache-Control", "no-store").header("Pragma", "no-cache")
                    .body("kind", equalTo("app+user")).body("environment", equalTo("lab"))
                    .body("access_token", equalTo(proofToken)).extract().asString();
            stubAppOnlyTokens();
            given().post("/v1/environments/lab/token").then().statusCode(200).body("kind", equalTo("app"));

            // an hour later the next exchange sends the stored refresh token, and stores its successor first
            clock.advance(Duration.ofMinutes(61));
            String next = newUserToken(LAB, ADMIN, true);
            azureAd.stub(refreshTokenRequest(LAB.domain(), second).willReturn(issuedForUser(next, third, 3600)));
            answers += appUserToken().statusCode(200).body("access_token", equalTo(next)).extract().asString();
            assertThat(vault.currentVersion(MOUNT, RECORD)).hasValue(2);
            assertThat(vault.data(MOUNT, RECORD, 2).orElseThrow()).containsEntry("refresh_token", third);

            // GET shows metadata only
            answers += given().get("/v1/environments/lab/app-user").then().statusCode(200).header("ETag", "\"2\"")
                    .header("Cache-Control", "no-store").body("user", equalTo(ADMIN))
                    .body("last_exchanged_at", org.hamcrest.Matchers.notNullValue())
                    .extract().asString();
            answers += management().get("/q/health/ready").then().extract().asString();
            answers += ScrapedMetrics.scrape();
            assertThat(logs.text()).doesNotContain(granted, second, third);
        }
        assertThat(answers).doesNotContain(granted, second, third);
        assertThat(audit.text()).doesNotContain(granted, second, third);
        assertThat(audit.events("lab")).extracting(event -> event.path("action").asText())
                .contains("app_user.install", "app_user.token.issue", "app_user.exchange", "app_user.read");
        double age = ScrapedMetrics.value(ScrapedMetrics.scrape(), "broker_app_user_refresh_token_age_seconds",
                "environment=\"lab\"");
        assertThat(age).isBetween(0.0, 5.0);
        assertThat(ScrapedMetrics.value(ScrapedMetrics.scrape(), "broker_app_user_inactivity_expiry_timestamp_seconds",
                "environment=\"lab\"")).isEqualTo(clock.instant().plus(Duration.ofDays(90)).getEpochSecond(),
                        org.assertj.core.data.Offset.offset(5.0));
    }

    @Test
    @DisplayName("case 47: when the new refresh token cannot be written back, the access token is not served and the stored one still works")
    void aFailedWriteBackServesNothingAndLosesNothing() {
        installWith(granted, second);
        clock.advance(Duration.ofMinutes(61));
        azureAd.stub(refreshTokenRequest(LAB.domain(), second)
                .willReturn(issuedForUser(newUserToken(LAB, ADMIN, true), third, 3600)));
        vault.loseNextWrite("/v1/" + MOUNT + "/data/" + RECORD); // as if the process died after the exchange: nothing stored, no answer

        appUserToken().statusCode(503).contentType(Problem.MEDIA_TYPE).body("code", equalTo("vault_unavailable"));
        assertThat(vault.data(MOUNT, RECORD, 1).orElseThrow()).containsEntry("refresh_token", second);

        // the old refresh token still works: the next exchange sends it again, and this time its successor is stored
        clock.advance(Duration.ofMinutes(1));
        appUserToken().statusCode(200).body("kind", equalTo("app+user"));
        assertThat(azureAd.requests(LAB.domain())).filteredOn(request -> request.getBodyAsString()
                .contains("refresh_token=" + second)).hasSizeGreaterThanOrEqualTo(2);
        assertThat(vault.data(MOUNT, RECORD, vault.currentVersion(MOUNT, RECORD).getAsInt()).orElseThrow())
                .containsEntry("refresh_token", third);
    }

    @Test
    @DisplayName("case 49: a refresh token Azure AD refuses (AADSTS700082, expired through inactivity) is consent_required: 503 to callers, told by readiness and the metric, no retry storm")
    void aRefusedGrantNeedsConsent() {
        installWith(granted, second);
        clock.advance(Duration.ofMinutes(61));
        azureAd.stub(refreshTokenRequest(LAB.domain(), second).willReturn(error(400, "invalid_grant", 700082)));
        double before = ScrapedMetrics.value(ScrapedMetrics.scrape(), "broker_app_user_failures_total",
                "environment=\"lab\"", "code=\"consent_required\"");

        appUserToken().statusCode(503).body("code", equalTo("consent_required")).header("Retry-After",
                Integer::parseInt, org.hamcrest.Matchers.greaterThanOrEqualTo(240));
        appUserToken().statusCode(503).body("code", equalTo("consent_required"));

        assertThat(azureAd.requests(LAB.domain())).filteredOn(request -> request.getBodyAsString()
                .contains("grant_type=refresh_token")).hasSize(2); // the install's proof and one refused exchange
        assertThat(ScrapedMetrics.value(ScrapedMetrics.scrape(), "broker_app_user_failures_total",
                "environment=\"lab\"", "code=\"consent_required\"")).isEqualTo(before + 1);
        management().get("/q/health/ready").then().statusCode(200)
                .body("checks.find { it.name == 'tokens' }.data.'lab.app_user'", equalTo("consent_required"));
        // app-only tokens of the environment are untouched
        stubAppOnlyTokens();
        given().post("/v1/environments/lab/token").then().statusCode(200);
    }

    @Test
    @DisplayName("case 50: a token whose user signed in without MFA is mfa_required, and never served nor installed")
    void withoutMfaNothingIsServedOrStored() {
        azureAd.stub(refreshTokenRequest(LAB.domain(), granted)
                .willReturn(issuedForUser(newUserToken(LAB, ADMIN, false), second, 3600)));

        install("\"0\"", granted).statusCode(422).body("code", equalTo("mfa_required"));
        assertThat(vault.currentVersion(MOUNT, RECORD)).isEmpty();

        // installed while MFA was there, refused once an exchange comes back without it
        installWith(granted, second);
        clock.advance(Duration.ofMinutes(61));
        azureAd.stub(refreshTokenRequest(LAB.domain(), second)
                .willReturn(issuedForUser(newUserToken(LAB, ADMIN, false), third, 3600)));
        appUserToken().statusCode(503).body("code", equalTo("mfa_required"));
        assertThat(vault.currentVersion(MOUNT, RECORD)).hasValue(1);
    }

    @Test
    @DisplayName("case 41 for app+user: a refresh token of another tenant's user is refused at install (422 tenant_mismatch), nothing stored")
    void aGrantOfAnotherTenantIsRefused() {
        azureAd.stub(refreshTokenRequest(LAB.domain(), granted)
                .willReturn(issuedForUser(newUserToken(PRIMARY, ADMIN, true), second, 3600)));

        install("\"0\"", granted).statusCode(422).body("code", equalTo("tenant_mismatch"));

        assertThat(vault.currentVersion(MOUNT, RECORD)).isEmpty();
    }

    @Test
    @DisplayName("bad input: a blank, oversized or refused refresh token is 422 with a code, nothing stored, the token never repeated")
    void badRefreshTokensAreRefused() {
        String oversized = "fake-" + "x".repeat(6 * 1024);
        azureAd.stub(refreshTokenRequest(LAB.domain(), granted).willReturn(error(400, "invalid_grant", 50173)));

        String answers;
        try (CapturedLogs logs = CapturedLogs.asConfigured()) {
            answers = install("\"0\"", " ").statusCode(422).body("code", equalTo("refresh_token_missing")).extract()
                    .asString();
            answers += install("\"0\"", oversized).statusCode(422).body("code", equalTo("refresh_token_too_large"))
                    .extract().asString();
            answers += install("\"0\"", granted).statusCode(422).body("code", equalTo("refresh_token_refused"))
                    .extract().asString();
            answers += given().contentType(ContentType.JSON).header("If-Match", "\"0\"")
                    .body("{\"refresh_token\":\"" + granted + "\",\"extra\":\"" + granted + "\"}")
                    .put("/v1/environments/lab/app-user").then().statusCode(400).extract().asString();
            answers += install(null, granted).statusCode(428).extract().asString();
            assertThat(logs.text()).doesNotContain(granted, oversized);
        }
        assertThat(answers).doesNotContain(granted, oversized.substring(0, 64));
        assertThat(audit.text()).doesNotContain(granted);
        assertThat(vault.currentVersion(MOUNT, RECORD)).isEmpty();
    }

    @Test
    @DisplayName("grants: app-user-token is a permission of its own; a caller granted token only gets 403, one granted app-user-token only gets no app-only token")
    void appUserTokensNeedTheirOwnGrant() {
        installWith(granted, second);
        CallerIssuerResource.actAsNobody();
        String billing = issuer.token(CallerIssuer.BILLING); // token on sandbox only

        given().header("Authorization", "Bearer " + billing)
                .post("/v1/environments/sandbox/app-user-token").then()
                .statusCode(403).body("code", equalTo("not_granted"));
    }

    @Test
    @DisplayName("retire: DELETE with If-Match writes a version with no refresh token; callers get consent_required at once")
    void retiringStopsServing() {
        installWith(granted, second);
        appUserToken().statusCode(200);

        given().header("If-Match", "\"2\"").delete("/v1/environments/lab/app-user").then().statusCode(412)
                .body("code", equalTo("stale_version"));
        given().header("If-Match", "\"1\"").delete("/v1/environments/lab/app-user").then().statusCode(204)
                .header("ETag", "\"2\"");

        assertThat(vault.data(MOUNT, RECORD, 2).orElseThrow()).doesNotContainKey("refresh_token");
        appUserToken().statusCode(503).body("code", equalTo("consent_required"));
        given().get("/v1/environments/lab/app-user").then().statusCode(200).body("installed", equalTo(false))
                .body("user", nullValue()).body("retired_at", org.hamcrest.Matchers.notNullValue());
        given().header("If-Match", "\"2\"").delete("/v1/environments/lab/app-user").then().statusCode(409)
                .body("code", equalTo("app_user_not_installed"));
    }

    private void stubAppOnlyTokens() {
        azureAd.stub(tokenRequest(LAB.domain()).withRequestBody(containing("grant_type=client_credentials"))
                .willReturn(issued(newToken(LAB, "app-only"), 3600)));
    }

    private void installWith(String given, String returned) {
        azureAd.stub(refreshTokenRequest(LAB.domain(), given)
                .willReturn(issuedForUser(newUserToken(LAB, ADMIN, true), returned, 3600)));
        install("\"0\"", given).statusCode(200);
    }

    private static ValidatableResponse install(String ifMatch, String refreshToken) {
        var request = given().contentType(ContentType.JSON).body("{\"refresh_token\":\"" + refreshToken + "\"}");
        if (ifMatch != null) {
            request = request.header("If-Match", ifMatch);
        }
        return request.put("/v1/environments/lab/app-user").then();
    }

    private static ValidatableResponse appUserToken() {
        return given().post("/v1/environments/lab/app-user-token").then();
    }
}
