package io.credentialbroker.token.azure;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Collectors;

import org.jboss.logmanager.ExtLogRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.http.Fault;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;

import io.credentialbroker.credential.ClientSecret;
import io.credentialbroker.credential.PartnerCredential;
import io.credentialbroker.environment.Cloud;
import io.credentialbroker.environment.Environment;
import io.credentialbroker.testing.Fixtures;
import io.credentialbroker.token.MintResult;
import io.credentialbroker.token.MintResult.Failed;
import io.credentialbroker.token.MintResult.FailureKind;
import io.credentialbroker.token.MintResult.Issued;

/**
 * The Azure AD minter against a WireMock stand-in for the token endpoint, over real HTTP on
 * loopback. Numbers in display names are the cases of docs/reliability.md.
 */
class AzureAdTokenMinterTest {

    private static final String DOMAIN = "fake-sandbox.onmicrosoft.com";
    private static final String CLIENT_ID = "00000000-0000-0000-0000-00000000fake";
    /** Generated per run, with characters that must be URL-encoded in the form. */
    private static final String SECRET = "fake-sandbox-secret~+/=&" + UUID.randomUUID();
    private static final String TOKEN_PATH = "/" + DOMAIN + "/oauth2/v2.0/token";
    private static final String V1_TOKEN_PATH = "/" + DOMAIN + "/oauth2/token";
    private static final String PARTNER_CENTER = Cloud.PUBLIC.resource();
    private static final Instant NOW = Instant.parse("2026-11-24T12:00:00Z");
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(2);

    private static WireMockServer wireMock;

    private AzureAdTokenMinter minter;

    @BeforeAll
    static void startWireMock() {
        wireMock = new WireMockServer(options().dynamicPort().bindAddress("127.0.0.1"));
        wireMock.start();
    }

    @AfterAll
    static void stopWireMock() {
        wireMock.stop();
    }

    @BeforeEach
    void freshStubsAndMinter() {
        wireMock.resetAll();
        minter = newMinter(READ_TIMEOUT);
    }

    // --- the request ---

    @Test
    @DisplayName("v2: form is exactly grant_type, client_id, client_secret, scope=<resource>/.default; secret only in the body (26, 33)")
    void sendsClientCredentialsFormToV2Endpoint() {
        String token = stubToken(TOKEN_PATH, 3599);

        MintResult result = minter.mint(v2Environment(), credential());

        assertThat(result).isInstanceOf(Issued.class);
        assertThat(((Issued) result).accessToken()).isEqualTo(token);
        LoggedRequest request = onlyRequest();
        assertThat(request.getUrl()).isEqualTo(TOKEN_PATH);
        assertThat(request.getHeader("Content-Type")).isEqualTo("application/x-www-form-urlencoded");
        assertThat(request.getHeader("Accept")).isEqualTo("application/json");
        assertThat(formOf(request)).containsExactly(
                Map.entry("grant_type", "client_credentials"),
                Map.entry("client_id", CLIENT_ID),
                Map.entry("client_secret", SECRET),
                Map.entry("scope", "https://api.partnercenter.microsoft.com/.default"));
        assertThat(request.getBodyAsString()).contains(URLEncoder.encode(SECRET, StandardCharsets.UTF_8));
        assertThat(request.getAbsoluteUrl()).doesNotContain(SECRET)
                .doesNotContain(URLEncoder.encode(SECRET, StandardCharsets.UTF_8))
                .doesNotContain("fake-sandbox-secret");
        request.getHeaders().all()
                .forEach(header -> assertThat(header.toString()).doesNotContain("fake-sandbox-secret"));
    }

    @Test
    @DisplayName("each request carries a fresh client-request-id, so even a timed-out request can be traced")
    void sendsClientRequestId() {
        stubToken(TOKEN_PATH, 3599);

        minter.mint(v2Environment(), credential());
        minter.mint(v2Environment(), credential());

        List<String> ids = wireMock.findAll(postRequestedFor(anyUrl())).stream()
                .map(request -> request.getHeader("client-request-id"))
                .toList();
        assertThat(ids).hasSize(2).doesNotHaveDuplicates()
                .allSatisfy(id -> assertThat(UUID.fromString(id).toString()).isEqualTo(id));
        wireMock.verify(2, postRequestedFor(anyUrl()).withHeader("return-client-request-id", equalTo("true")));
    }

    @Test
    @DisplayName("v1: sends resource=<resource> instead of scope (docs/upstream-behaviour.md, Azure AD token request)")
    void sendsResourceInsteadOfScopeToV1Endpoint() {
        stubToken(V1_TOKEN_PATH, 3599);

        MintResult result = minter.mint(v1Environment(), credential());

        assertThat(result).isInstanceOf(Issued.class);
        assertThat(formOf(onlyRequest())).containsExactly(
                Map.entry("grant_type", "client_credentials"),
                Map.entry("client_id", CLIENT_ID),
                Map.entry("client_secret", SECRET),
                Map.entry("resource", "https://api.partnercenter.microsoft.com"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"evil.example/../other", "evil.example?x=1#y", "evil.example/oauth2/v2.0/token?"})
    @DisplayName("a domain with / ? # is encoded into one path segment and cannot change the path (30)")
    void domainCannotAlterTheRequestPath(String domain) {
        wireMock.stubFor(any(anyUrl()).willReturn(okToken("fake-access-token-" + UUID.randomUUID(), "3599")));

        minter.mint(v2Environment(), credential(domain));

        LoggedRequest request = onlyRequest();
        assertThat(request.getUrl())
                .isEqualTo("/" + URLEncoder.encode(domain, StandardCharsets.UTF_8) + "/oauth2/v2.0/token");
        assertThat(request.getUrl()).doesNotContain("?");
    }

    @Test
    @DisplayName("a blank secret is refused without asking Azure AD (4)")
    void refusesBlankSecretWithoutARequest() {
        MintResult result = minter.mint(v2Environment(),
                new PartnerCredential(CLIENT_ID, new ClientSecret(" "), DOMAIN, 1, NOW));

        assertFailed(result, FailureKind.CREDENTIAL_INVALID, 0, "empty_secret");
        assertThat(wireMock.getAllServeEvents()).isEmpty();
    }

    // --- success ---

    @Test
    @DisplayName("expires_in as a JSON number")
    void parsesNumericExpiresIn() {
        String token = stubToken(TOKEN_PATH, 3599);

        MintResult result = minter.mint(v2Environment(), credential());

        assertThat(result).isEqualTo(new Issued(token, Duration.ofSeconds(3599), Optional.empty()));
    }

    @Test
    @DisplayName("v1 sends expires_in and expires_on as strings (docs/upstream-behaviour.md)")
    void parsesStringExpiresInFromV1Endpoint() {
        String token = "fake-access-token-" + UUID.randomUUID();
        wireMock.stubFor(post(urlPathEqualTo(V1_TOKEN_PATH)).willReturn(json(200, """
                {"token_type":"Bearer","expires_in":"3599","ext_expires_in":"3599","expires_on":"1795521600",
                 "not_before":"1795518001","resource":"https://api.partnercenter.microsoft.com","access_token":"%s"}
                """.formatted(token))));

        MintResult result = minter.mint(v1Environment(), credential());

        assertThat(result).isEqualTo(new Issued(token, Duration.ofSeconds(3599), Optional.empty()));
    }

    @Test
    @DisplayName("refresh_in, as a number or a string, is passed on")
    void passesOnRefreshIn() {
        String token = "fake-access-token-" + UUID.randomUUID();
        wireMock.stubFor(post(urlPathEqualTo(TOKEN_PATH)).willReturn(json(200, """
                {"token_type":"Bearer","expires_in":5400,"ext_expires_in":5400,"refresh_in":2700,"access_token":"%s"}
                """.formatted(token))));
        assertThat(minter.mint(v2Environment(), credential()))
                .isEqualTo(new Issued(token, Duration.ofSeconds(5400), Optional.of(Duration.ofSeconds(2700))));

        wireMock.stubFor(post(urlPathEqualTo(TOKEN_PATH)).willReturn(json(200, """
                {"token_type":"bearer","expires_in":"5400","refresh_in":"2700","access_token":"%s"}
                """.formatted(token))));
        assertThat(minter.mint(v2Environment(), credential()))
                .isEqualTo(new Issued(token, Duration.ofSeconds(5400), Optional.of(Duration.ofSeconds(2700))));
    }

    @Test
    @DisplayName("an unusable refresh_in (not a number, zero, past expiry) is dropped; the token is still good")
    void dropsUnusableRefreshIn() {
        for (String refreshIn : List.of("\"soon\"", "0", "-5", "3600", "7200", "true")) {
            String token = "fake-access-token-" + UUID.randomUUID();
            wireMock.stubFor(post(urlPathEqualTo(TOKEN_PATH)).willReturn(json(200, """
                    {"token_type":"Bearer","expires_in":3600,"refresh_in":%s,"access_token":"%s"}
                    """.formatted(refreshIn, token))));

            assertThat(minter.mint(v2Environment(), credential())).as("refresh_in=%s", refreshIn)
                    .isEqualTo(new Issued(token, Duration.ofSeconds(3600), Optional.empty()));
        }
    }

    // --- Azure AD errors ---

    @Test
    @DisplayName("401 invalid_client AADSTS7000215 (wrong secret): CREDENTIAL_INVALID, ids kept (10)")
    void mapsWrongSecretToCredentialInvalid() {
        stubError(401, "invalid_client", 7000215, "AADSTS7000215: Invalid client secret provided.");

        MintResult result = minter.mint(v2Environment(), credential());

        assertThat(result).isEqualTo(new Failed(FailureKind.CREDENTIAL_INVALID, 401, "invalid_client",
                List.of(7000215), "fake-trace-7000215", "fake-correlation-7000215", Optional.empty()));
    }

    @Test
    @DisplayName("401 invalid_client AADSTS7000222 (expired secret): CREDENTIAL_EXPIRED (11)")
    void mapsExpiredSecretToCredentialExpired() {
        stubError(401, "invalid_client", 7000222, "AADSTS7000222: The provided client secret keys are expired.");

        assertFailed(minter.mint(v2Environment(), credential()), FailureKind.CREDENTIAL_EXPIRED, 401,
                "invalid_client");
    }

    @Test
    @DisplayName("400 unauthorized_client AADSTS700016 (app not in tenant): CONFIGURATION (12)")
    void mapsUnknownAppToConfiguration() {
        stubError(400, "unauthorized_client", 700016, "AADSTS700016: Application not found in the directory.");

        MintResult result = minter.mint(v2Environment(), credential());

        assertFailed(result, FailureKind.CONFIGURATION, 400, "unauthorized_client");
        assertThat(((Failed) result).errorCodes()).containsExactly(700016);
    }

    @ParameterizedTest
    @ValueSource(ints = {90002, 900432, 90038})
    @DisplayName("400 invalid_request (tenant not found, wrong cloud): CONFIGURATION (12)")
    void mapsUnknownTenantAndWrongCloudToConfiguration(int code) {
        stubError(400, "invalid_request", code, "AADSTS" + code + ": Tenant not found.");

        assertFailed(minter.mint(v2Environment(), credential()), FailureKind.CONFIGURATION, 400, "invalid_request");
    }

    @ParameterizedTest
    @ValueSource(strings = {"unsupported_grant_type", "invalid_scope", "invalid_resource", "something_new"})
    @DisplayName("other 400 errors: CONFIGURATION, never retried")
    void mapsOtherClientErrorsToConfiguration(String error) {
        stubError(400, error, 70011, "AADSTS70011: whatever.");

        assertFailed(minter.mint(v2Environment(), credential()), FailureKind.CONFIGURATION, 400, error);
    }

    @Test
    @DisplayName("a changed error_description gives the same result: branch on error/error_codes only (21)")
    void ignoresErrorDescriptionText() {
        stubError(401, "invalid_client", 7000222, "AADSTS7000222: The provided client secret keys are expired.");
        MintResult before = minter.mint(v2Environment(), credential());

        stubError(401, "invalid_client", 7000222,
                "AADSTS7000215: Invalid client secret provided. (wording changed; mentions another code)");
        MintResult after = minter.mint(v2Environment(), credential());

        assertThat(after).isEqualTo(before);
        assertThat(((Failed) after).kind()).isEqualTo(FailureKind.CREDENTIAL_EXPIRED);
    }

    @Test
    @DisplayName("429 with Retry-After: 60 is THROTTLED for 60 s (13)")
    void honoursRetryAfterSecondsOn429() {
        wireMock.stubFor(post(urlPathEqualTo(TOKEN_PATH))
                .willReturn(aResponse().withStatus(429).withHeader("Retry-After", "60")));

        MintResult result = minter.mint(v2Environment(), credential());

        assertFailed(result, FailureKind.THROTTLED, 429, "throttled");
        assertThat(((Failed) result).retryAfter()).contains(Duration.ofSeconds(60));
    }

    @Test
    @DisplayName("429 with an HTTP-date Retry-After waits until that date (13)")
    void honoursRetryAfterHttpDateOn429() {
        String inTwoMinutes = DateTimeFormatter.RFC_1123_DATE_TIME.format(NOW.plusSeconds(120).atZone(ZoneOffset.UTC));
        wireMock.stubFor(post(urlPathEqualTo(TOKEN_PATH)).willReturn(json(429,
                errorBody("too_many_requests", 0, "Request rate exceeded.")).withHeader("Retry-After", inTwoMinutes)));

        MintResult result = minter.mint(v2Environment(), credential());

        assertFailed(result, FailureKind.THROTTLED, 429, "too_many_requests");
        assertThat(((Failed) result).retryAfter()).contains(Duration.ofSeconds(120));
    }

    @Test
    @DisplayName("Retry-After: past dates mean now, huge values are capped at 1 h, garbage is ignored")
    void boundsRetryAfter() {
        AzureAdAnswers answers = new AzureAdAnswers(Clock.fixed(NOW, ZoneOffset.UTC));
        assertThat(answers.parseRetryAfter("0")).contains(Duration.ZERO);
        assertThat(answers.parseRetryAfter(" 120 ")).contains(Duration.ofSeconds(120));
        assertThat(answers.parseRetryAfter("86400")).contains(Duration.ofHours(1));
        assertThat(answers.parseRetryAfter("99999999999999999999999")).isEmpty();
        assertThat(answers.parseRetryAfter("Tue, 24 Nov 2026 11:00:00 GMT")).contains(Duration.ZERO);
        assertThat(answers.parseRetryAfter("Wed, 25 Nov 2026 12:00:00 GMT")).contains(Duration.ofHours(1));
        assertThat(answers.parseRetryAfter("-5")).isEmpty();
        assertThat(answers.parseRetryAfter("1.5")).isEmpty();
        assertThat(answers.parseRetryAfter("soon")).isEmpty();
        assertThat(answers.parseRetryAfter("")).isEmpty();
    }

    @Test
    @DisplayName("503 with an empty body: TRANSIENT, no NullPointerException, Retry-After honoured (14)")
    void treats503WithEmptyBodyAsTransient() {
        wireMock.stubFor(post(urlPathEqualTo(TOKEN_PATH))
                .willReturn(aResponse().withStatus(503).withHeader("Retry-After", "5")));

        MintResult result = minter.mint(v2Environment(), credential());

        assertFailed(result, FailureKind.TRANSIENT, 503, "http_error");
        assertThat(((Failed) result).retryAfter()).contains(Duration.ofSeconds(5));
    }

    @Test
    @DisplayName("without an error body, trace and correlation ids come from Azure AD's response headers")
    void takesIdsFromHeadersWhenBodyHasNone() {
        wireMock.stubFor(post(urlPathEqualTo(TOKEN_PATH)).willReturn(aResponse().withStatus(504)
                .withHeader("x-ms-request-id", "11111111-2222-3333-4444-555555555555")
                .withHeader("client-request-id", "66666666-7777-8888-9999-000000000000")));

        MintResult result = minter.mint(v2Environment(), credential());

        assertThat(result).isEqualTo(new Failed(FailureKind.TRANSIENT, 504, "http_error", List.of(),
                "11111111-2222-3333-4444-555555555555", "66666666-7777-8888-9999-000000000000", Optional.empty()));
    }

    @ParameterizedTest
    @ValueSource(ints = {500, 503, 504})
    @DisplayName("5xx temporarily_unavailable / server_error: TRANSIENT, exactly one request per mint (14)")
    void treatsServerErrorsAsTransient(int status) {
        stubError(status, status == 500 ? "temporarily_unavailable" : "server_error", 90033,
                "AADSTS90033: A transient error has occurred.");

        MintResult result = minter.mint(v2Environment(), credential());

        assertThat(((Failed) result).kind()).isEqualTo(FailureKind.TRANSIENT);
        assertThat(((Failed) result).httpStatus()).isEqualTo(status);
        assertThat(((Failed) result).retryAfter()).isEmpty();
        // Retries are the cache's job: the minter sends one request per call.
        wireMock.verify(1, postRequestedFor(anyUrl()));
    }

    @Test
    @DisplayName("temporarily_unavailable under a 4xx status is still TRANSIENT (14)")
    void treatsTemporarilyUnavailableAsTransientWhateverTheStatus() {
        stubError(400, "temporarily_unavailable", 90033, "AADSTS90033: A transient error has occurred.");

        assertFailed(minter.mint(v2Environment(), credential()), FailureKind.TRANSIENT, 400,
                "temporarily_unavailable");
    }

    @Test
    @DisplayName("a redirect is not followed: the form, secret included, goes only where configured")
    void doesNotFollowRedirects() {
        wireMock.stubFor(post(urlPathEqualTo(TOKEN_PATH))
                .willReturn(aResponse().withStatus(307).withHeader("Location", "/elsewhere/oauth2/v2.0/token")));
        wireMock.stubFor(post(urlPathEqualTo("/elsewhere/oauth2/v2.0/token")).willReturn(okToken("x", "3599")));

        MintResult result = minter.mint(v2Environment(), credential());

        assertFailed(result, FailureKind.CONFIGURATION, 307, "http_error");
        wireMock.verify(0, postRequestedFor(urlPathEqualTo("/elsewhere/oauth2/v2.0/token")));
    }

    @Test
    @DisplayName("error fields that don't look like Azure AD's (free text in error, non-GUID ids) are dropped, not echoed (34)")
    void dropsErrorFieldsThatAreNotCodes() {
        wireMock.stubFor(post(urlPathEqualTo(TOKEN_PATH)).willReturn(json(401, """
                {"error":"invalid client: %s","error_codes":["x",7000215,1.5],"trace_id":"a b","correlation_id":"%s"}
                """.formatted(SECRET, "c".repeat(100)))));

        MintResult result = minter.mint(v2Environment(), credential());

        assertThat(result).isEqualTo(new Failed(FailureKind.CONFIGURATION, 401, "http_error", List.of(7000215),
                null, null, Optional.empty()));
    }

    // --- transport failures ---

    @ParameterizedTest
    @EnumSource(value = Fault.class, names = {"CONNECTION_RESET_BY_PEER", "EMPTY_RESPONSE", "MALFORMED_RESPONSE_CHUNK",
            "RANDOM_DATA_THEN_CLOSE"})
    @DisplayName("reset, empty, malformed chunk, random bytes: TRANSIENT connection_failed (14, 19)")
    void treatsBrokenConnectionsAsTransient(Fault fault) {
        wireMock.stubFor(post(urlPathEqualTo(TOKEN_PATH)).willReturn(aResponse().withFault(fault)));

        MintResult result = minter.mint(v2Environment(), credential());

        assertFailed(result, FailureKind.TRANSIENT, 0, "connection_failed");
        wireMock.verify(1, postRequestedFor(anyUrl()));
    }

    @Test
    @DisplayName("connection refused: TRANSIENT connection_failed (14)")
    void treatsRefusedConnectionAsTransient() throws IOException {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        Environment nowhere = new Environment("sandbox", Fixtures.SANDBOX.tenant(), Cloud.PUBLIC,
                "partner-center/sandbox",
                "http://127.0.0.1:" + closedPort + "/{domain}/oauth2/v2.0/token", PARTNER_CENTER);

        assertFailed(minter.mint(nowhere, credential()), FailureKind.TRANSIENT, 0, "connection_failed");
    }

    @Test
    @DisplayName("no answer within the read timeout: TRANSIENT timeout, returned in bounded time (14, 15)")
    void timesOutOnSlowAnswer() {
        wireMock.stubFor(post(urlPathEqualTo(TOKEN_PATH))
                .willReturn(okToken("fake-access-token-" + UUID.randomUUID(), "3599").withFixedDelay(5_000)));
        AzureAdTokenMinter impatient = newMinter(Duration.ofMillis(300));

        long start = System.nanoTime();
        MintResult result = impatient.mint(v2Environment(), credential());

        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
        assertFailed(result, FailureKind.TRANSIENT, 0, "timeout");
    }

    @Test
    @DisplayName("headers in time, then a body that trickles in past the read timeout: TRANSIENT timeout, in bounded time (15)")
    void timesOutOnTricklingBody() {
        // The status line arrives after ~100 ms, the last byte after 5 s. The JDK's request timeout
        // stops at the headers, so this is the minter's own deadline at work.
        wireMock.stubFor(post(urlPathEqualTo(TOKEN_PATH)).willReturn(
                okToken("fake-access-token-" + UUID.randomUUID(), "3599").withChunkedDribbleDelay(50, 5_000)));
        AzureAdTokenMinter impatient = newMinter(Duration.ofMillis(1_000));

        long start = System.nanoTime();
        MintResult result = impatient.mint(v2Environment(), credential());

        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(2_500));
        assertFailed(result, FailureKind.TRANSIENT, 0, "timeout");
    }

    @Test
    @DisplayName("interrupted while waiting for Azure AD: returns at once, TRANSIENT, interrupt flag kept")
    void keepsInterruptFlagWhenInterruptedWhileWaiting() throws InterruptedException {
        wireMock.stubFor(post(urlPathEqualTo(TOKEN_PATH))
                .willReturn(okToken("fake-access-token-" + UUID.randomUUID(), "3599").withFixedDelay(5_000)));
        AtomicReference<MintResult> result = new AtomicReference<>();
        AtomicBoolean stillInterrupted = new AtomicBoolean();
        Thread refresher = new Thread(() -> {
            result.set(minter.mint(v2Environment(), credential()));
            stillInterrupted.set(Thread.currentThread().isInterrupted());
        }, "token-refresh");

        refresher.start();
        // Interrupt once the request is with "Azure AD", as when the cache stops mid-refresh.
        await().atMost(Duration.ofSeconds(2)).until(() -> !wireMock.findAll(postRequestedFor(anyUrl())).isEmpty());
        refresher.interrupt();
        refresher.join(1_000);

        assertThat(refresher.isAlive()).isFalse();
        assertThat(stillInterrupted).isTrue();
        assertFailed(result.get(), FailureKind.TRANSIENT, 0, "interrupted");
    }

    @Test
    @DisplayName("already interrupted: no request, TRANSIENT, interrupt flag kept")
    void keepsInterruptFlagWhenCalledInterrupted() {
        Thread.currentThread().interrupt();
        MintResult result = minter.mint(v2Environment(), credential());
        boolean stillInterrupted = Thread.interrupted();

        assertThat(stillInterrupted).isTrue();
        assertFailed(result, FailureKind.TRANSIENT, 0, "interrupted");
    }

    // --- unusable 200s (case 19) ---

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"token_type\":\"Bearer\",\"expires_in\":3599}",
            "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"access_token\":\"\"}",
            "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"access_token\":\"   \"}",
            "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"access_token\":\"two\\r\\nlines\"}",
            "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"access_token\":42}",
            "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"access_token\":null}",
            "{\"token_type\":\"pop\",\"expires_in\":3599,\"access_token\":\"fake-access-token-pop\"}",
            "{\"token_type\":\"Bearer\",\"access_token\":\"fake-access-token-no-expiry\"}",
            "{\"token_type\":\"Bearer\",\"expires_in\":0,\"access_token\":\"fake-access-token-zero\"}",
            "{\"token_type\":\"Bearer\",\"expires_in\":-60,\"access_token\":\"fake-access-token-negative\"}",
            "{\"token_type\":\"Bearer\",\"expires_in\":\"an hour\",\"access_token\":\"fake-access-token-text\"}",
            "{\"token_type\":\"Bearer\",\"expires_in\":\"-60\",\"access_token\":\"fake-access-token-text\"}",
            "{\"token_type\":\"Bearer\",\"expires_in\":3599.5,\"access_token\":\"fake-access-token-fraction\"}",
            "{\"token_type\":\"Bearer\",\"expires_in\":99999999999,\"access_token\":\"fake-access-token-huge\"}",
            "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"access_token\":\"fake-access-token-trailing\"} {}",
            "[{\"access_token\":\"fake-access-token-array\",\"expires_in\":3599}]",
            "\"fake-access-token-string\"",
            "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"access_token\":\"fake-access-token-cut",
            "<html><body><h1>Sign in to the corporate proxy</h1></body></html>",
            "\u0000\u0001garbage\u00ff",
            "{}",
            ""})
    @DisplayName("a 200 without a usable access_token, token_type or expires_in is TRANSIENT malformed_response (19)")
    void rejectsUnusableGrant(String body) {
        wireMock.stubFor(post(urlPathEqualTo(TOKEN_PATH)).willReturn(json(200, body)));

        assertFailed(minter.mint(v2Environment(), credential()), FailureKind.TRANSIENT, 200, "malformed_response");
    }

    @Test
    @DisplayName("a 200 larger than any token answer is TRANSIENT malformed_response, not buffered (19)")
    void rejectsOversizedResponse() {
        wireMock.stubFor(post(urlPathEqualTo(TOKEN_PATH)).willReturn(json(200,
                "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"access_token\":\"" + "a".repeat(200_000) + "\"}")));

        assertFailed(minter.mint(v2Environment(), credential()), FailureKind.TRANSIENT, 200, "malformed_response");
    }

    // --- leaks (cases 33, 34) ---

    @Test
    @DisplayName("at DEBUG, no log record holds the secret, a token or error_description, on any path (33, 34)")
    void logsNeitherSecretNorTokenNorDescription() {
        List<LogRecord> records = new CopyOnWriteArrayList<>();
        Handler capture = new Handler() {

            @Override
            public void publish(LogRecord record) {
                records.add(record);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        capture.setLevel(Level.ALL);
        Logger root = Logger.getLogger("");
        Logger category = Logger.getLogger(AzureAdTokenMinter.class.getName());
        Level rootLevel = root.getLevel();
        Level categoryLevel = category.getLevel();
        root.addHandler(capture);
        category.addHandler(capture);
        root.setLevel(Level.ALL);
        category.setLevel(Level.ALL);
        List<String> secrets = new ArrayList<>(List.of(SECRET, URLEncoder.encode(SECRET, StandardCharsets.UTF_8)));
        List<MintResult> results = new ArrayList<>();
        try {
            AzureAdTokenMinter logged = newMinter(Duration.ofMillis(500));

            String token = stubToken(TOKEN_PATH, 3599);
            secrets.add(token);
            results.add(logged.mint(v2Environment(), credential()));

            String v1Token = "fake-access-token-" + UUID.randomUUID();
            secrets.add(v1Token);
            wireMock.stubFor(post(urlPathEqualTo(V1_TOKEN_PATH))
                    .willReturn(json(200, "{\"expires_in\":\"3599\",\"access_token\":\"" + v1Token + "\"}")));
            results.add(logged.mint(v1Environment(), credential()));

            for (int code : new int[]{7000215, 7000222}) {
                String description = "AADSTS" + code + ": fake-description-" + UUID.randomUUID();
                secrets.add(description);
                stubError(401, "invalid_client", code, description);
                results.add(logged.mint(v2Environment(), credential()));
            }
            String description = "AADSTS90002: fake-description-" + UUID.randomUUID();
            secrets.add(description);
            stubError(400, "invalid_request", 90002, description);
            results.add(logged.mint(v2Environment(), credential()));

            // A token in an unparseable 200: a parser message would quote it.
            String cutToken = "fake-access-token-" + UUID.randomUUID();
            secrets.add(cutToken);
            wireMock.stubFor(post(urlPathEqualTo(TOKEN_PATH))
                    .willReturn(json(200, "{\"expires_in\":3599,\"access_token\":\"" + cutToken + "\" oops")));
            results.add(logged.mint(v2Environment(), credential()));

            wireMock.stubFor(post(urlPathEqualTo(TOKEN_PATH))
                    .willReturn(aResponse().withStatus(429).withHeader("Retry-After", "60")));
            results.add(logged.mint(v2Environment(), credential()));

            for (Fault fault : List.of(Fault.CONNECTION_RESET_BY_PEER, Fault.RANDOM_DATA_THEN_CLOSE,
                    Fault.MALFORMED_RESPONSE_CHUNK)) {
                wireMock.stubFor(post(urlPathEqualTo(TOKEN_PATH)).willReturn(aResponse().withFault(fault)));
                results.add(logged.mint(v2Environment(), credential()));
            }
            wireMock.stubFor(post(urlPathEqualTo(TOKEN_PATH))
                    .willReturn(okToken(token, "3599").withFixedDelay(2_000)));
            results.add(logged.mint(v2Environment(), credential()));
        } finally {
            root.removeHandler(capture);
            category.removeHandler(capture);
            root.setLevel(rootLevel);
            category.setLevel(categoryLevel);
        }

        // The handler sits on the category and on the root, so each of the minter's records may arrive
        // twice (JBoss LogManager may hand each handler its own copy).
        List<LogRecord> minterRecords = records.stream()
                .filter(record -> AzureAdTokenMinter.class.getName().equals(record.getLoggerName()))
                .collect(Collectors.toMap(LogRecord::getSequenceNumber, record -> record, (a, b) -> a,
                        LinkedHashMap::new))
                .values().stream().toList();
        // The capture works, and there is at most one line per request.
        assertThat(minterRecords).hasSize(results.size());
        assertThat(minterRecords).allSatisfy(record -> assertThat(record.getLevel().intValue())
                .isLessThanOrEqualTo(Level.FINE.intValue()));
        assertThat(render(minterRecords.get(0))).contains("environment=sandbox").contains("status=200");
        assertThat(render(minterRecords.get(2))).contains("error=invalid_client").contains("error_codes=[7000215]")
                .contains("trace_id=fake-trace-7000215").contains("correlation_id=fake-correlation-7000215");
        for (LogRecord record : records) {
            String rendered = render(record);
            for (String secret : secrets) {
                assertThat(rendered).as("log record of %s", record.getLoggerName()).doesNotContain(secret);
            }
            assertThat(rendered).doesNotContain("fake-sandbox-secret").doesNotContain("fake-description-");
        }
        for (MintResult result : results) {
            for (String secret : secrets) {
                assertThat(result.toString()).doesNotContain(secret);
            }
        }
    }

    @Test
    @DisplayName("Issued and Failed print no token (33, 35)")
    void resultsPrintNoToken() {
        String token = stubToken(TOKEN_PATH, 3599);
        MintResult issued = minter.mint(v2Environment(), credential());
        stubError(401, "invalid_client", 7000215, "AADSTS7000215: fake-description-" + token);
        MintResult failed = minter.mint(v2Environment(), credential());

        assertThat(issued).isInstanceOf(Issued.class);
        assertThat(issued.toString()).doesNotContain(token).contains("redacted");
        assertThat(failed.toString()).doesNotContain(token).doesNotContain("fake-description-")
                .doesNotContain(SECRET);
    }

    // --- helpers ---

    private static AzureAdTokenMinter newMinter(Duration readTimeout) {
        return new AzureAdTokenMinter(Duration.ofSeconds(1), readTimeout, Clock.fixed(NOW, ZoneOffset.UTC));
    }

    private static Environment v2Environment() {
        return new Environment("sandbox", Fixtures.SANDBOX.tenant(), Cloud.PUBLIC, "partner-center/sandbox",
                wireMock.baseUrl() + "/{domain}/oauth2/v2.0/token", PARTNER_CENTER);
    }

    private static Environment v1Environment() {
        return new Environment("sandbox", Fixtures.SANDBOX.tenant(), Cloud.PUBLIC, "partner-center/sandbox",
                wireMock.baseUrl() + "/{domain}/oauth2/token", PARTNER_CENTER);
    }

    private static PartnerCredential credential() {
        return credential(DOMAIN);
    }

    private static PartnerCredential credential(String domain) {
        return new PartnerCredential(CLIENT_ID, new ClientSecret(SECRET), domain, 3, NOW.minusSeconds(86_400));
    }

    /** Stubs a v2-style grant and returns its (obviously fake) token. */
    private static String stubToken(String path, int expiresIn) {
        String token = "fake-access-token-" + UUID.randomUUID();
        wireMock.stubFor(post(urlPathEqualTo(path)).willReturn(okToken(token, String.valueOf(expiresIn))));
        return token;
    }

    private static ResponseDefinitionBuilder okToken(String token, String expiresIn) {
        return json(200, """
                {"token_type":"Bearer","expires_in":%s,"ext_expires_in":%s,"access_token":"%s"}
                """.formatted(expiresIn, expiresIn, token));
    }

    private static void stubError(int status, String error, int code, String description) {
        wireMock.stubFor(
                post(urlPathEqualTo(TOKEN_PATH)).willReturn(json(status, errorBody(error, code, description))));
    }

    /** Azure AD's error shape (docs/upstream-behaviour.md, "Azure AD responses"). */
    private static String errorBody(String error, int code, String description) {
        return """
                {"error":"%s","error_description":"%s\\r\\nTrace ID: fake\\r\\nTimestamp: 2026-11-24 12:00:00Z",
                 "error_codes":[%d],"timestamp":"2026-11-24 12:00:00Z","trace_id":"fake-trace-%d",
                 "correlation_id":"fake-correlation-%d","error_uri":"https://login.microsoftonline.com/error?code=%d"}
                """.formatted(error, description, code, code, code, code);
    }

    private static ResponseDefinitionBuilder json(int status, String body) {
        return aResponse().withStatus(status).withHeader("Content-Type", "application/json; charset=utf-8")
                .withBody(body);
    }

    private static LoggedRequest onlyRequest() {
        List<LoggedRequest> requests = wireMock.findAll(anyRequestedFor(anyUrl()));
        assertThat(requests).hasSize(1);
        return requests.get(0);
    }

    /** The form fields in the order sent, decoded. */
    private static Map<String, String> formOf(LoggedRequest request) {
        Map<String, String> form = new LinkedHashMap<>();
        for (String pair : request.getBodyAsString().split("&")) {
            String[] nameAndValue = pair.split("=", 2);
            form.put(URLDecoder.decode(nameAndValue[0], StandardCharsets.UTF_8),
                    URLDecoder.decode(nameAndValue[1], StandardCharsets.UTF_8));
        }
        return form;
    }

    private static void assertFailed(MintResult result, FailureKind kind, int status, String error) {
        assertThat(result).isInstanceOf(Failed.class);
        Failed failed = (Failed) result;
        assertThat(failed.kind()).as("kind of %s", failed).isEqualTo(kind);
        assertThat(failed.httpStatus()).as("status of %s", failed).isEqualTo(status);
        assertThat(failed.error()).as("error of %s", failed).isEqualTo(error);
    }

    /** Everything a handler or formatter could print of a record. */
    private static String render(LogRecord record) {
        StringBuilder text = new StringBuilder(String.valueOf(record.getMessage()));
        if (record instanceof ExtLogRecord ext) {
            text.append('\n').append(ext.getFormattedMessage());
        }
        if (record.getParameters() != null) {
            text.append('\n').append(Arrays.deepToString(record.getParameters()));
        }
        if (record.getThrown() != null) {
            StringWriter trace = new StringWriter();
            record.getThrown().printStackTrace(new PrintWriter(trace));
            text.append('\n').append(trace);
        }
        return text.toString();
    }
}
