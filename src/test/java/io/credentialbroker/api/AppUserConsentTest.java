package io.credentialbroker.api;

import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static io.credentialbroker.testing.AzureAdStandIn.error;
import static io.credentialbroker.testing.AzureAdStandIn.issued;
import static io.credentialbroker.testing.AzureAdStandIn.newUserToken;
import static io.credentialbroker.testing.AzureAdStandIn.tokenRequest;
import static io.credentialbroker.testing.Fixtures.SANDBOX;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.UUID;

import jakarta.inject.Inject;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;

import io.credentialbroker.testing.AzureAdStandInResource;
import io.credentialbroker.testing.CallerIssuer;
import io.credentialbroker.testing.CallerIssuerResource;
import io.credentialbroker.testing.CapturedAudit;
import io.credentialbroker.testing.CapturedLogs;
import io.credentialbroker.testing.Fixtures;
import io.credentialbroker.testing.StandInTest;
import io.credentialbroker.testing.VaultStandIn;
import io.credentialbroker.testing.VaultStandInResource;
import io.credentialbroker.token.TokenService;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;

/**
 * Consent without PowerShell, end to end on {@code sandbox} (README, "Consent without PowerShell";
 * docs/reliability.md, case 51): an ops caller starts the consent, the test plays the admin agent's
 * browser (it takes the state from the authorize URL and brings a code back to the callback, with
 * no bearer token), the broker exchanges the code with its PKCE verifier at the Azure AD stand-in
 * and stores the refresh token in the Vault stand-in. Time comes from the test clock.
 */
@QuarkusTest
@WithTestResource(AzureAdStandInResource.class)
@WithTestResource(CallerIssuerResource.class)
@WithTestResource(VaultStandInResource.class)
class AppUserConsentTest extends StandInTest {

    private static final String CONSENT = "/v1/environments/sandbox/app-user/consent";
    private static final String CALLBACK = "/v1/app-user/callback";
    private static final String MOUNT = VaultStandIn.DEFAULT_MOUNT;
    private static final String RECORD = SANDBOX.vaultPath() + "/app-user";
    private static final String REDIRECT_URI = "http://localhost:8080/v1/app-user/callback";
    private static final String ADMIN_AGENT = "admin.agent@fake-sandbox.onmicrosoft.com";
    private static final Duration CONSENT_TIMEOUT = Duration.ofMinutes(10);

    @Inject
    TokenService tokens;

    private String opsToken;
    private CapturedAudit audit;
    /** Generated per test, so leak checks search for exactly them. */
    private String code;
    private String refreshToken;

    @BeforeEach
    void seed() {
        opsToken = issuer.token(CallerIssuer.OPS_TOOL);
        CallerIssuerResource.actAsNobody(); // the browser carries no bearer token; ops requests add theirs
        clock.moveToNewDay();
        azureAd.reset();
        Fixtures.seed(vault);
        code = "fake-authorization-code-" + UUID.randomUUID();
        refreshToken = "fake-refresh-token-" + UUID.randomUUID();
        audit = CapturedAudit.start();
    }

    @AfterEach
    void forgetTheConsent() {
        audit.close();
        tokens.retireAppUser(SANDBOX.environment()); // later tests find sandbox with no app+user token
    }

    @Test
    @DisplayName("starting: 302 to the tenant's authorize endpoint with the app, the redirect URI, the user_impersonation scope, a state and an S256 challenge; no-store; audited")
    void startRedirectsToTheAuthorizeEndpoint() {
        Instant before = clock.instant();
        Response answer = startConsent();

        answer.then().statusCode(302).header("Cache-Control", "no-store");
        String location = answer.header("Location");
        assertThat(location).startsWith(
                "http://127.0.0.1:" + azureAd.server().port() + "/" + SANDBOX.domain() + "/oauth2/v2.0/authorize?");
        Map<String, String> query = query(location);
        assertThat(query).containsEntry("client_id", SANDBOX.clientId()).containsEntry("response_type", "code")
                .containsEntry("redirect_uri", REDIRECT_URI).containsEntry("response_mode", "query")
                .containsEntry("scope", "https://api.partnercenter.microsoft.com/user_impersonation offline_access")
                .containsEntry("code_challenge_method", "S256").containsEntry("prompt", "login");
        assertThat(query.get("state")).as("256 random bits, base64url").matches("[A-Za-z0-9_-]{43}");
        assertThat(query.get("code_challenge")).as("a SHA-256, base64url").matches("[A-Za-z0-9_-]{43}");
        assertThat(answer.jsonPath().getString("authorize_url")).isEqualTo(location);
        assertThat(Instant.parse(answer.jsonPath().getString("expires_at")))
                .isBetween(before.plus(CONSENT_TIMEOUT), clock.instant().plus(CONSENT_TIMEOUT));
        assertThat(query(startConsent().header("Location")).get("state")).as("a new state each time")
                .isNotEqualTo(query.get("state"));

        assertThat(consentEvents()).first().satisfies(event -> {
            assertThat(event.path("caller").asText()).isEqualTo(CallerIssuer.OPS_TOOL);
            assertThat(event.path("outcome").asText()).isEqualTo("succeeded");
            assertThat(event.has("to_version")).isFalse();
        });
    }

    @Test
    @DisplayName("starting needs the credentials permission: 401 without a token, 403 for a caller granted only tokens")
    void startNeedsTheCredentialsPermission() {
        given().redirects().follow(false).get(CONSENT).then().statusCode(401);
        given().redirects().follow(false).auth().oauth2(issuer.token(CallerIssuer.BILLING)).get(CONSENT).then()
                .statusCode(403);
    }

    @Test
    @DisplayName("case 51, the callback: the code is exchanged with the verifier whose S256 is the challenge, the refresh token Azure AD returns is stored, and the page names the environment, the user and the version")
    void callbackInstallsTheConsent() throws Exception {
        Map<String, String> authorize = query(startConsent().header("Location"));
        stubTheCodeExchange();

        String page = callback(authorize.get("state"), code).then().statusCode(200)
                .header("Cache-Control", "no-store")
                .contentType(containsString("text/plain"))
                .body(containsString("sandbox"), containsString(ADMIN_AGENT), containsString("version 1"))
                .extract().asString();

        LoggedRequest exchange = last(azureAd.requests(SANDBOX.domain()));
        Map<String, String> form = form(exchange);
        assertThat(form).containsEntry("grant_type", "authorization_code").containsEntry("code", code)
                .containsEntry("redirect_uri", REDIRECT_URI).containsEntry("client_id", SANDBOX.clientId());
        assertThat(s256(form.get("code_verifier"))).as("RFC 7636 S256 of the verifier")
                .isEqualTo(authorize.get("code_challenge"));
        assertThat(form.get("code_verifier")).matches("[A-Za-z0-9_-]{43,128}");

        assertThat(vault.currentVersion(MOUNT, RECORD)).hasValue(1);
        assertThat(vault.data(MOUNT, RECORD, 1).orElseThrow()).containsEntry("refresh_token", refreshToken)
                .containsEntry("user", ADMIN_AGENT).containsEntry("mfa", "true");
        assertThat(page).doesNotContain(code, refreshToken, form.get("code_verifier"));

        assertThat(consentEvents()).last().satisfies(event -> {
            assertThat(event.path("caller").asText()).as("the ops caller who started it").isEqualTo(
                    CallerIssuer.OPS_TOOL);
            assertThat(event.path("outcome").asText()).isEqualTo("succeeded");
            assertThat(event.path("from_version").asInt()).isZero();
            assertThat(event.path("to_version").asInt()).isEqualTo(1);
        });
        assertThat(audit.events("sandbox")).filteredOn(event -> event.path("action").asText().equals(
                "app_user.install")).singleElement().satisfies(event -> assertThat(event.path("outcome").asText())
                        .isEqualTo("succeeded"));
    }

    @Test
    @DisplayName("case 51: a replayed state is 400 and nothing new is asked or stored")
    void replayedStateIsRefused() {
        String state = query(startConsent().header("Location")).get("state");
        stubTheCodeExchange();
        callback(state, code).then().statusCode(200);
        int asked = azureAd.tokenRequests(SANDBOX.domain());

        refusedState(callback(state, code));

        assertThat(azureAd.tokenRequests(SANDBOX.domain())).isEqualTo(asked);
        assertThat(vault.currentVersion(MOUNT, RECORD)).hasValue(1);
        assertThat(consentEvents()).last().satisfies(event -> {
            assertThat(event.path("outcome").asText()).isEqualTo("rejected");
            assertThat(event.path("error_code").asText()).isEqualTo("consent_state_invalid");
        });
    }

    @Test
    @DisplayName("case 51: a state older than broker.app-user.consent-timeout is 400; nothing is asked or stored")
    void expiredStateIsRefused() {
        String state = query(startConsent().header("Location")).get("state");
        stubTheCodeExchange();
        clock.advance(CONSENT_TIMEOUT.plusSeconds(1));

        refusedState(callback(state, code));

        assertNothingAskedOrStored();
    }

    @Test
    @DisplayName("case 51: a state this broker never issued is 400; nothing is asked or stored")
    void foreignStateIsRefused() {
        startConsent();
        stubTheCodeExchange();
        byte[] random = new byte[32];
        new java.security.SecureRandom().nextBytes(random);

        refusedState(callback(Base64.getUrlEncoder().withoutPadding().encodeToString(random), code));
        refusedState(given().queryParam("code", code).get(CALLBACK)); // no state at all

        assertNothingAskedOrStored();
    }

    @Test
    @DisplayName("pending consents are bounded: past 100 the oldest gives way, and its state is 400 like any unknown one")
    void pendingConsentsAreBounded() {
        String oldest = query(startConsent().header("Location")).get("state");
        String kept = null;
        for (int i = 0; i < 100; i++) {
            kept = query(startConsent().header("Location")).get("state");
        }
        stubTheCodeExchange();

        refusedState(callback(oldest, code));
        callback(kept, code).then().statusCode(200);
    }

    @Test
    @DisplayName("Azure AD's error=access_denied is 400 access_denied, its description never repeated; the state is spent")
    void deniedConsentIsRefused() {
        String state = query(startConsent().header("Location")).get("state");
        stubTheCodeExchange();

        String body = given().queryParam("error", "access_denied")
                .queryParam("error_description", "AADSTS65004: Something the broker must never repeat.")
                .queryParam("state", state).get(CALLBACK).then().statusCode(400)
                .contentType(containsString(Problem.MEDIA_TYPE))
                .body("code", equalTo("access_denied"))
                .body("environment", equalTo("sandbox"))
                .extract().asString();

        assertThat(body).doesNotContain("AADSTS65004", "never repeat");
        refusedState(callback(state, code));
        assertNothingAskedOrStored();
        assertThat(consentEvents()).extracting(event -> event.path("error_code").asText())
                .contains("access_denied", "consent_state_invalid");
    }

    @Test
    @DisplayName("a code Azure AD refuses (invalid_grant) is 422 refresh_token_refused; nothing is stored")
    void refusedCodeStoresNothing() {
        String state = query(startConsent().header("Location")).get("state");
        azureAd.stub(tokenRequest(SANDBOX.domain()).withRequestBody(containing("grant_type=authorization_code"))
                .willReturn(error(400, "invalid_grant", 70000)));

        String body = callback(state, code).then().statusCode(422)
                .header("Cache-Control", "no-store")
                .body("code", equalTo("refresh_token_refused"))
                .extract().asString();

        assertThat(body).doesNotContain("never repeat", code);
        assertThat(vault.currentVersion(MOUNT, RECORD)).isEmpty();
        assertThat(consentEvents()).last().satisfies(event -> {
            assertThat(event.path("outcome").asText()).isEqualTo("rejected");
            assertThat(event.path("error_code").asText()).isEqualTo("refresh_token_refused");
        });
    }

    @Test
    @DisplayName("case 52: the code, the verifier, the refresh token and the state reach no log line, audit line or answer")
    void noGrantSecretLeaks() {
        try (CapturedLogs logs = CapturedLogs.asConfigured()) {
            Response started = startConsent();
            String state = query(started.header("Location")).get("state");
            stubTheCodeExchange();
            String installed = callback(state, code).asString();
            String replayed = callback(state, code).asString();
            String refusedState = query(startConsent().header("Location")).get("state");
            azureAd.stub(tokenRequest(SANDBOX.domain()).withRequestBody(containing("grant_type=authorization_code"))
                    .atPriority(1).willReturn(error(400, "invalid_grant", 70000)));
            String refused = callback(refusedState, code).asString();

            String verifier = form(last(azureAd.requests(SANDBOX.domain()))).get("code_verifier");
            List<String> secrets = List.of(code, verifier, refreshToken, state, refusedState);
            assertThat(logs.text()).doesNotContain(secrets);
            assertThat(audit.text()).doesNotContain(secrets);
            assertThat(List.of(installed, replayed, refused)).allSatisfy(body -> assertThat(body)
                    .doesNotContain(code, verifier, refreshToken));
            assertThat(started.asString()).doesNotContain(verifier);
        }
    }

    private Response startConsent() {
        return given().redirects().follow(false).auth().oauth2(opsToken).get(CONSENT);
    }

    private static Response callback(String state, String code) {
        return given().queryParam("code", code).queryParam("state", state).get(CALLBACK);
    }

    private static void refusedState(Response answer) {
        answer.then().statusCode(400).header("Cache-Control", "no-store")
                .contentType(containsString(Problem.MEDIA_TYPE))
                .body("code", equalTo("consent_state_invalid"));
    }

    private void stubTheCodeExchange() {
        azureAd.stub(tokenRequest(SANDBOX.domain(), SANDBOX.clientId(), SANDBOX.clientSecret())
                .withRequestBody(containing("grant_type=authorization_code"))
                .withRequestBody(containing("code=" + code))
                .willReturn(issued(newUserToken(SANDBOX, ADMIN_AGENT, "pwd", "mfa"), 3599, refreshToken)));
    }

    private void assertNothingAskedOrStored() {
        assertThat(azureAd.tokenRequests(SANDBOX.domain())).isZero();
        assertThat(vault.currentVersion(MOUNT, RECORD)).isEqualTo(OptionalInt.empty());
    }

    private List<JsonNode> consentEvents() {
        return audit.events().stream().filter(event -> event.path("action").asText().equals("app_user.consent"))
                .toList();
    }

    private static Map<String, String> query(String url) {
        return decode(URI.create(url).getRawQuery());
    }

    private static Map<String, String> form(LoggedRequest request) {
        return decode(request.getBodyAsString());
    }

    private static Map<String, String> decode(String encoded) {
        Map<String, String> fields = new LinkedHashMap<>();
        for (String pair : encoded.split("&")) {
            int equals = pair.indexOf('=');
            fields.put(URLDecoder.decode(pair.substring(0, equals), StandardCharsets.UTF_8),
                    URLDecoder.decode(pair.substring(equals + 1), StandardCharsets.UTF_8));
        }
        return fields;
    }

    private static LoggedRequest last(List<LoggedRequest> requests) {
        assertThat(requests).isNotEmpty();
        return requests.get(requests.size() - 1);
    }

    private static String s256(String verifier) throws Exception {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(
                MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII)));
    }
}
