package io.credentialbroker.api;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static io.credentialbroker.testing.AzureAdStandIn.error;
import static io.credentialbroker.testing.AzureAdStandIn.held;
import static io.credentialbroker.testing.AzureAdStandIn.issued;
import static io.credentialbroker.testing.AzureAdStandIn.newToken;
import static io.credentialbroker.testing.AzureAdStandIn.tokenRequest;
import static io.credentialbroker.testing.Fixtures.PRIMARY;
import static io.credentialbroker.testing.Fixtures.ROTATING;
import static io.credentialbroker.testing.Fixtures.SANDBOX;
import static io.credentialbroker.testing.ManagementInterface.management;
import static io.credentialbroker.testing.ScrapedMetrics.scrape;
import static io.credentialbroker.testing.ScrapedMetrics.value;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.anyOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;

import java.net.URI;
import java.net.URL;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import com.github.tomakehurst.wiremock.http.Fault;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;

import io.credentialbroker.testing.AzureAdStandInResource;
import io.credentialbroker.testing.CallerIssuer;
import io.credentialbroker.testing.CallerIssuerResource;
import io.credentialbroker.testing.Fixtures;
import io.credentialbroker.testing.StandInTest;
import io.credentialbroker.testing.VaultStandIn;
import io.credentialbroker.testing.VaultStandInResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.ValidatableResponse;

/**
 * The token endpoint end to end: HTTP in, Vault (the KV v2 stand-in) and Azure AD (WireMock) over
 * real loopback HTTP, time from a clock the tests tick.
 */
@QuarkusTest
@WithTestResource(AzureAdStandInResource.class)
@WithTestResource(CallerIssuerResource.class)
@WithTestResource(VaultStandInResource.class)
class TokenEndpointTest extends StandInTest {

    private static final Duration PAST_REFRESH_POINT = Duration.ofMinutes(51); // a 60-minute token refreshes at 50

    /** The methods RFC 9110 defines, but CONNECT, and PATCH: whatever a resource might answer. */
    private static final List<String> PROBED_METHODS = List.of("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH",
            "OPTIONS", "TRACE");

    @TestHTTPResource("/")
    URL broker;

    @BeforeEach
    void coldStart() {
        CallerIssuerResource.actAs(issuer, CallerIssuer.OPERATOR);
        clock.moveToNewDay();
        azureAd.reset();
        Fixtures.seed(vault);
    }

    @Test
    @DisplayName("sandbox and primary tokens are minted from their own credentials and labelled with their own environment")
    void mintsEachEnvironmentFromItsOwnCredential() {
        String sandboxToken = newToken(SANDBOX, "sandbox");
        String primaryToken = newToken(PRIMARY, "primary");
        // each stub answers only its own app's credential: a crossed request would find no stub
        azureAd.stub(tokenRequest(SANDBOX.domain(), SANDBOX.clientId(), SANDBOX.clientSecret())
                .willReturn(issued(sandboxToken, 3599)));
        azureAd.stub(tokenRequest(PRIMARY.domain(), PRIMARY.clientId(), PRIMARY.clientSecret())
                .willReturn(issued(primaryToken, 3599)));

        io.restassured.response.Response sandbox = requestToken("sandbox").statusCode(200)
                .header("Broker-Environment", "sandbox")
                .header("Cache-Control", "no-store")
                .header("Pragma", "no-cache")
                .header("X-Request-Id", notNullValue())
                .contentType("application/json")
                .body("environment", equalTo("sandbox"))
                .body("token_type", equalTo("Bearer"))
                .body("access_token", equalTo(sandboxToken))
                .body("expires_in", equalTo(600))
                .body("expires_at", notNullValue())
                .body("resource", equalTo("https://api.partnercenter.microsoft.com"))
                .body("credential_version", equalTo(1)).extract().response();
        for (String header : List.of("Broker-Environment", "Cache-Control", "Pragma", "Content-Type")) {
            assertThat(sandbox.headers().getValues(header)).as(header).hasSize(1);
        }
        requestToken("primary").statusCode(200)
                .header("Broker-Environment", "primary")
                .body("environment", equalTo("primary"))
                .body("access_token", equalTo(primaryToken));

        assertThat(form(single(azureAd.requests(SANDBOX.domain())))).containsExactlyInAnyOrderEntriesOf(Map.of(
                "grant_type", "client_credentials",
                "client_id", SANDBOX.clientId(),
                "client_secret", SANDBOX.clientSecret(),
                "scope", "https://api.partnercenter.microsoft.com/.default"));
        assertThat(form(single(azureAd.requests(PRIMARY.domain())))).containsEntry("client_id", PRIMARY.clientId())
                .containsEntry("client_secret", PRIMARY.clientSecret());
        for (LoggedRequest request : azureAd.server().getAllServeEvents().stream().map(e -> e.getRequest()).toList()) {
            assertThat(request.getUrl()).doesNotContain("secret");
            assertThat(request.getHeader("Content-Type")).startsWith("application/x-www-form-urlencoded");
        }
    }

    @Test
    @DisplayName("case 17: 100 concurrent requests per environment on a cold cache cause exactly one token request each")
    void coldHerdCausesOneTokenRequestPerEnvironment() throws Exception {
        String sandboxToken = newToken(SANDBOX, "sandbox");
        String primaryToken = newToken(PRIMARY, "primary");
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(issued(sandboxToken, 3599).withFixedDelay(300)));
        azureAd.stub(tokenRequest(PRIMARY.domain()).willReturn(issued(primaryToken, 3599).withFixedDelay(300)));

        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        String bearer = issuer.token(CallerIssuer.OPERATOR);
        List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            for (String environment : List.of("sandbox", "primary")) {
                responses.add(client.sendAsync(HttpRequest.newBuilder(tokenUri(environment))
                        .header("Authorization", "Bearer " + bearer).POST(HttpRequest.BodyPublishers.noBody())
                        .timeout(Duration.ofSeconds(30)).build(),
                        HttpResponse.BodyHandlers.ofString()));
            }
        }
        CompletableFuture.allOf(responses.toArray(CompletableFuture[]::new)).get();

        for (CompletableFuture<HttpResponse<String>> response : responses) {
            HttpResponse<String> answer = response.get();
            assertThat(answer.statusCode()).isEqualTo(200);
            String environment = answer.headers().firstValue("Broker-Environment").orElseThrow();
            assertThat(answer.body()).contains("\"access_token\":\""
                    + (environment.equals("sandbox") ? sandboxToken : primaryToken) + "\"");
        }
        assertThat(azureAd.tokenRequests(SANDBOX.domain())).isEqualTo(1);
        assertThat(azureAd.tokenRequests(PRIMARY.domain())).isEqualTo(1);
    }

    @Test
    @DisplayName("case 16: past the refresh point callers get the old token at once while exactly one refresh runs; then the new one")
    void servesTheOldTokenWhileOneRefreshRuns() {
        String oldToken = newToken(SANDBOX, "old");
        String newToken = newToken(SANDBOX, "new");
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(issued(oldToken, 3600)));
        requestToken("sandbox").statusCode(200).body("access_token", equalTo(oldToken));

        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(held(issued(newToken, 3600))));
        clock.advance(PAST_REFRESH_POINT);
        requestToken("sandbox").statusCode(200).body("access_token", equalTo(oldToken));
        azureAd.awaitHeld(1); // the refresh is in flight, and stays there until released
        for (int i = 0; i < 20; i++) {
            requestToken("sandbox").statusCode(200).body("access_token", equalTo(oldToken));
        }
        given().get("/v1/environments").then()
                .body("environments.find { it.name == 'sandbox' }.token_state", equalTo("refreshing"));

        azureAd.release();
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> requestToken("sandbox").statusCode(200).body("access_token", equalTo(newToken)));
        assertThat(azureAd.tokenRequests(SANDBOX.domain())).isEqualTo(2);
    }

    @Test
    @DisplayName("cases 14, 15: Azure AD answering 503 while the cached token is valid: still served, at most 2 retries, then quiet")
    void servesTheCachedTokenWhileAzureAdAnswers503() {
        String cached = cacheAToken();
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(error(503, "temporarily_unavailable", 0)));
        clock.advance(PAST_REFRESH_POINT);

        requestToken("sandbox").statusCode(200).body("access_token", equalTo(cached));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> given().get("/v1/environments").then()
                .body("environments.find { it.name == 'sandbox' }.token_state", equalTo("stale-serving"))
                .body("environments.find { it.name == 'sandbox' }.last_error", equalTo("azure_ad_unavailable")));
        assertThat(azureAd.tokenRequests(SANDBOX.domain())).isEqualTo(1 + 3); // the first mint, then 1 + 2 retries

        clock.advance(Duration.ofSeconds(10)); // within the 30 s quiet period after a failed refresh
        requestToken("sandbox").statusCode(200).body("access_token", equalTo(cached));
        assertThat(azureAd.tokenRequests(SANDBOX.domain())).isEqualTo(4);
    }

    @Test
    @DisplayName("case 16: after a failed refresh, no new attempt for at least 30 s of clock time (failure-backoff), then exactly one")
    void retriesAFailedRefreshNoMoreThanOncePer30Seconds() {
        String cached = cacheAToken();
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(error(503, "temporarily_unavailable", 0)));
        clock.freeze(); // only the test moves time: the quiet period is measured from the failure exactly
        try {
            clock.advance(PAST_REFRESH_POINT);
            requestToken("sandbox").statusCode(200).body("access_token", equalTo(cached));
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> given().get("/v1/environments").then()
                    .body("environments.find { it.name == 'sandbox' }.token_state", equalTo("stale-serving")));
            int afterFailure = azureAd.tokenRequests(SANDBOX.domain());
            assertThat(afterFailure).as("the first mint, then one refresh of 1 + 2 attempts").isEqualTo(4);

            // every second for 30 s, callers ask (each would start a refresh if it were allowed)
            for (int second = 1; second < 30; second++) {
                clock.advance(Duration.ofSeconds(1));
                requestToken("sandbox").statusCode(200).body("access_token", equalTo(cached));
            }
            clock.advance(Duration.ofMillis(999));
            requestToken("sandbox").statusCode(200);
            given().get("/v1/environments").then()
                    .body("environments.find { it.name == 'sandbox' }.token_state", equalTo("stale-serving"));
            assertThat(azureAd.tokenRequests(SANDBOX.domain())).as("nothing within 30 s of the failure")
                    .isEqualTo(afterFailure);

            // past the backoff (30 s plus at most 10 % jitter), the next caller starts exactly one refresh
            String fresh = newToken(SANDBOX, "fresh");
            azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(issued(fresh, 3600)));
            clock.advance(Duration.ofSeconds(3).plusMillis(1));
            requestToken("sandbox").statusCode(200);
            await().atMost(Duration.ofSeconds(10))
                    .untilAsserted(() -> requestToken("sandbox").body("access_token", equalTo(fresh)));
            assertThat(azureAd.tokenRequests(SANDBOX.domain())).isEqualTo(afterFailure + 1);
        } finally {
            clock.unfreeze();
        }
    }

    @Test
    @DisplayName("case 15: token below min-remaining and Azure AD down: 503 problem+json with Retry-After, then fast 503s")
    void answers503WithRetryAfterOnceTheTokenIsTooOldAndAzureAdIsDown() {
        cacheAToken();
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(error(503, "temporarily_unavailable", 0)));
        clock.advance(Duration.ofMinutes(59)); // 60 s left: below min-remaining (2 min) + skew

        requestToken("sandbox").statusCode(503)
                .contentType("application/problem+json")
                .header("Retry-After", notNullValue())
                .body("type", equalTo("urn:credential-broker:problem:token-unavailable"))
                .body("title", equalTo("No token available"))
                .body("status", equalTo(503))
                .body("environment", equalTo("sandbox"))
                .body("code", equalTo("azure_ad_unavailable"))
                .body("retry_after", greaterThanOrEqualTo(30))
                .body("detail", not(containsString("temporarily_unavailable")));
        int afterFirst = azureAd.tokenRequests(SANDBOX.domain());

        long started = System.nanoTime();
        requestToken("sandbox").statusCode(503).header("Retry-After", notNullValue());
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(1));
        assertThat(azureAd.tokenRequests(SANDBOX.domain())).isEqualTo(afterFirst);
    }

    @Test
    @DisplayName("case 13: 429 with Retry-After: 60 means no request to that tenant before 60 s of clock time pass")
    void honoursRetryAfterOn429() {
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(error(429, "temporarily_unavailable", 50196)
                .withHeader("Retry-After", "60")));

        requestToken("sandbox").statusCode(503).header("Retry-After", "60").body("code", equalTo("azure_ad_throttled"));
        assertThat(azureAd.tokenRequests(SANDBOX.domain())).isEqualTo(1);

        String token = newToken(SANDBOX, "after-throttling");
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(issued(token, 3600)));
        clock.advance(Duration.ofSeconds(59));
        requestToken("sandbox").statusCode(503).header("Retry-After", "1");
        assertThat(azureAd.tokenRequests(SANDBOX.domain())).isEqualTo(1);

        clock.advance(Duration.ofSeconds(2));
        requestToken("sandbox").statusCode(200).body("access_token", equalTo(token));
        assertThat(azureAd.tokenRequests(SANDBOX.domain())).isEqualTo(2);
    }

    @Test
    @DisplayName("case 13: throttled during a refresh, the cached token is still served and the tenant left alone for 60 s")
    void keepsServingWhileThrottled() {
        String cached = cacheAToken();
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(error(429, "temporarily_unavailable", 50196)
                .withHeader("Retry-After", "60")));
        clock.advance(PAST_REFRESH_POINT);
        requestToken("sandbox").statusCode(200).body("access_token", equalTo(cached));
        await().atMost(Duration.ofSeconds(5)).until(() -> azureAd.tokenRequests(SANDBOX.domain()) == 2);

        clock.advance(Duration.ofSeconds(55));
        requestToken("sandbox").statusCode(200).body("access_token", equalTo(cached));
        assertThat(azureAd.tokenRequests(SANDBOX.domain())).isEqualTo(2);

        String fresh = newToken(SANDBOX, "fresh");
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(issued(fresh, 3600)));
        clock.advance(Duration.ofSeconds(6));
        requestToken("sandbox").statusCode(200);
        await().atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> requestToken("sandbox").body("access_token", equalTo(fresh)));
        assertThat(azureAd.tokenRequests(SANDBOX.domain())).isEqualTo(3);
    }

    @Test
    @DisplayName("case 10: invalid_client is not retried; Vault is read once more; the caller gets a stable code, no secret, no Azure text")
    void doesNotRetryInvalidClientAndRereadsVaultOnce() {
        cacheAToken();
        clock.moveToNewDay();
        azureAd.reset();
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(error(401, "invalid_client", 7000215)));
        long readsBefore = vault.count("GET", Fixtures.dataPath(SANDBOX));

        String body = requestToken("sandbox").statusCode(503)
                .contentType("application/problem+json")
                .body("code", equalTo("credential_invalid"))
                .extract().asString();

        assertThat(azureAd.tokenRequests(SANDBOX.domain())).isEqualTo(1);
        assertThat(vault.count("GET", Fixtures.dataPath(SANDBOX)) - readsBefore).as(vault.requests().toString())
                .isEqualTo(1);
        assertThat(body).doesNotContain(SANDBOX.clientSecret(), "AADSTS", "must never repeat", "trace-7000215");
    }

    @Test
    @DisplayName("case 11: an expired secret (AADSTS7000222) is reported as such: rotate; its own metric series and readiness detail, apart from an invalid one")
    void reportsAnExpiredSecretDistinctly() {
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(error(401, "invalid_client", 7000222)));
        String before = scrape();

        requestToken("sandbox").statusCode(503).header("Retry-After", notNullValue())
                .body("code", equalTo("credential_expired"))
                .body(not(containsString("AADSTS")));
        assertThat(azureAd.tokenRequests(SANDBOX.domain())).as("not retried").isEqualTo(1);

        String after = scrape();
        assertThat(delta(before, after, "broker_token_failures_total", "environment=\"sandbox\"",
                "code=\"credential_expired\"")).as("the rotate signal").isEqualTo(1);
        assertThat(delta(before, after, "broker_token_failures_total", "environment=\"sandbox\"",
                "code=\"credential_invalid\"")).as("not counted as a wrong key").isZero();
        assertThat(delta(before, after, "broker_azure_ad_requests_total", "environment=\"sandbox\"",
                "outcome=\"credential_expired\"", "error_code=\"AADSTS7000222\"")).isEqualTo(1);
        management().get("/q/health/ready").then()
                .body("checks.find { it.name == 'tokens' }.data.'sandbox.last_error'", equalTo("credential_expired"));
        given().get("/v1/environments").then()
                .body("environments.find { it.name == 'sandbox' }.last_error", equalTo("credential_expired"));
    }

    @Test
    @DisplayName("case 12: app not found (700016) in sandbox is not retried and never degrades primary")
    void aSandboxConfigurationErrorLeavesPrimaryAlone() {
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(error(400, "unauthorized_client", 700016)));
        String primaryToken = newToken(PRIMARY, "primary");
        azureAd.stub(tokenRequest(PRIMARY.domain()).willReturn(issued(primaryToken, 3600)));

        requestToken("sandbox").statusCode(503).body("code", equalTo("azure_ad_rejected_configuration"));
        requestToken("primary").statusCode(200).body("access_token", equalTo(primaryToken));
        requestToken("sandbox").statusCode(503);

        assertThat(azureAd.tokenRequests(SANDBOX.domain())).isEqualTo(1);
        given().get("/v1/environments").then()
                .body("environments.find { it.name == 'primary' }.token_state", equalTo("fresh"))
                .body("environments.find { it.name == 'sandbox' }.token_state", equalTo("unavailable"));
    }

    @Test
    @DisplayName("case 18: tokens that are useless at once cause a bounded number of requests, no storm")
    void tokensThatExpireAtOnceDoNotCauseAStorm() {
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(issued(newToken(SANDBOX, "short"), 5)));

        for (int second = 0; second < 120; second++) {
            requestToken("sandbox").statusCode(503).body("code", equalTo("token_lifetime_too_short"));
            clock.advance(Duration.ofSeconds(1));
        }
        // one attempt per failure backoff (30 s, plus up to 10 % jitter) over two minutes
        assertThat(azureAd.tokenRequests(SANDBOX.domain())).isBetween(3, 5);
    }

    @Test
    @DisplayName("case 10: a key rotated in Vault by another replica is found by the re-read and mints at once")
    void picksUpAKeyRotatedBehindItsBack() {
        String before = newToken(ROTATING, "before-rotation");
        azureAd.stub(tokenRequest(ROTATING.domain(), ROTATING.clientId(), ROTATING.clientSecret())
                .willReturn(issued(before, 3600)));
        requestToken("rotating").statusCode(200).body("access_token", equalTo(before));

        Fixtures.Account rotated = ROTATING.withSecret("fake-rotated-secret-" + java.util.UUID.randomUUID());
        vault.put(VaultStandIn.DEFAULT_MOUNT, ROTATING.vaultPath(), rotated.vaultData());
        String after = newToken(ROTATING, "after-rotation");
        azureAd.reset();
        azureAd.stub(tokenRequest(ROTATING.domain(), ROTATING.clientId(), ROTATING.clientSecret())
                .willReturn(error(401, "invalid_client", 7000215)));
        azureAd.stub(tokenRequest(ROTATING.domain(), rotated.clientId(), rotated.clientSecret())
                .willReturn(issued(after, 3600)));
        clock.moveToNewDay();

        requestToken("rotating").statusCode(200).body("access_token", equalTo(after)).body("credential_version",
                equalTo(2));
        assertThat(azureAd.tokenRequests(ROTATING.domain())).isEqualTo(2);
    }

    @Test
    @DisplayName("case 19: a 200 without access_token is rejected and not cached")
    void rejectsASuccessWithoutAccessToken() {
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "application/json")
                .withBody("{\"token_type\":\"Bearer\",\"expires_in\":3599}")));
        requestToken("sandbox").statusCode(503).body("code", equalTo("azure_ad_unavailable"));

        assertThatTheNextGoodAnswerIsServed();
    }

    @Test
    @DisplayName("case 19: garbage, or random data then close, is rejected and not cached")
    void rejectsGarbage() {
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "application/json").withBody("<html>proxy error</html>")));
        requestToken("sandbox").statusCode(503);
        clock.advance(Duration.ofMinutes(1));
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(aResponse().withFault(Fault.RANDOM_DATA_THEN_CLOSE)));
        requestToken("sandbox").statusCode(503);

        assertThatTheNextGoodAnswerIsServed();
    }

    @Test
    @DisplayName("v1-style string expires_in parses")
    void acceptsStringExpiresIn() {
        String token = newToken(SANDBOX, "v1");
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(issued(token, "3599")));

        requestToken("sandbox").statusCode(200).body("access_token", equalTo(token)).body("expires_in", equalTo(600));
    }

    @Test
    void answers404ProblemForAnUnknownEnvironment() {
        requestToken("staging").statusCode(404)
                .contentType("application/problem+json")
                .body("type", equalTo("urn:credential-broker:problem:unknown-environment"))
                .body("detail", containsString("'staging'"));
        given().post("/v1/environments/{env}/token", "<script>").then().statusCode(404)
                .body("detail", not(containsString("script")));
        assertThat(azureAd.server().getAllServeEvents()).isEmpty();
    }

    @Test
    @DisplayName("case 30: a caller cannot choose the tenant, scope or authority")
    void refusesCallerSuppliedTenantOrScope() {
        given().queryParam("tenant", "evil.onmicrosoft.com").post("/v1/environments/sandbox/token").then()
                .statusCode(400).contentType("application/problem+json")
                .body("type", equalTo("urn:credential-broker:problem:invalid-request"));
        given().contentType("application/json").body("{\"scope\":\"https://graph.microsoft.com/.default\"}")
                .post("/v1/environments/sandbox/token").then().statusCode(400);
        assertThat(azureAd.server().getAllServeEvents()).isEmpty();

        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(issued(newToken(SANDBOX, "sandbox"), 3600)));
        given().contentType("application/json").body("{}").post("/v1/environments/sandbox/token").then()
                .statusCode(200);
    }

    @Test
    @DisplayName("case 32: unknown paths, inside /v1 or not, answer 404 problem+json: no stack trace, no list of what exists")
    void answersProblemsForUnknownPaths() {
        for (String path : List.of("/v1/nothing-here", "/v1/environments/sandbox/nothing", "/nothing-here",
                "/", "/v2/environments/sandbox/token", "/q/nothing-here", "/q/health/ready", "/q/metrics",
                "/index.html", "/../etc/passwd")) {
            for (String method : List.of("GET", "POST", "DELETE", "OPTIONS")) {
                io.restassured.response.Response answer = given().request(method, path);
                String body = answer.asString();
                assertThat(answer.statusCode()).as(method + " " + path + ": " + body).isEqualTo(404);
                assertThat(answer.contentType()).as(method + " " + path).startsWith("application/problem+json");
                assertThat(body).as(method + " " + path).contains("urn:credential-broker:problem:not-found");
                assertNothingLeaks(method + " " + path, body);
            }
        }
    }

    @Test
    @DisplayName("case 32: methods a resource does not answer, and methods HTTP does not define, answer 405 problem+json: no stack trace, no leak")
    void answersProblemsForUnknownMethods() {
        for (String method : List.of("GET", "PUT", "PATCH", "DELETE")) {
            String body = given().request(method, "/v1/environments/sandbox/token").then().statusCode(405)
                    .contentType("application/problem+json")
                    .body("type", equalTo("urn:credential-broker:problem:method-not-allowed"))
                    .extract().asString();
            assertNothingLeaks(method + " token", body);
        }
        for (String method : List.of("POST", "PATCH")) {
            String body = given().request(method, "/v1/environments").then().statusCode(405)
                    .contentType("application/problem+json").extract().asString();
            assertNothingLeaks(method + " environments", body);
        }
        for (String method : List.of("FOO", "PROPFIND")) {
            String body = given().request(method, "/v1/environments/sandbox/token").then()
                    .statusCode(anyOf(equalTo(405), equalTo(501)))
                    .contentType("application/problem+json").extract().asString();
            assertNothingLeaks(method + " token", body);
        }
        assertThat(azureAd.server().getAllServeEvents()).isEmpty();
    }

    @Test
    @DisplayName("case 32: a method a path does not answer gets 405 with Allow naming exactly the methods that path answers, and OPTIONS names the same")
    void namesTheMethodsAPathAnswersInAllow() {
        // as nobody: every method a path answers then stops at 401 (or, at the callback, 400), changing nothing
        CallerIssuerResource.actAsNobody();
        for (String path : List.of("/v1/environments", "/v1/environments/sandbox/token",
                "/v1/environments/sandbox/app-user-token", "/v1/environments/sandbox/credentials",
                "/v1/environments/sandbox/credentials/versions",
                "/v1/environments/sandbox/credentials/rotations/" + UUID.randomUUID(),
                "/v1/environments/sandbox/app-user", "/v1/environments/sandbox/app-user/consent",
                "/v1/app-user/callback")) {
            Map<String, io.restassured.response.Response> answers = new LinkedHashMap<>();
            for (String method : PROBED_METHODS) {
                answers.put(method, given().redirects().follow(false).request(method, path));
            }
            // answered: anything but 405, or a 404 saying that nothing is at this path
            Set<String> answered = answers.entrySet().stream()
                    .filter(answer -> answer.getValue().statusCode() != 405
                            && !answer.getValue().asString().contains("urn:credential-broker:problem:not-found"))
                    .map(Map.Entry::getKey).collect(Collectors.toCollection(TreeSet::new));
            assertThat(answered).as(path).isNotEmpty().isNotEqualTo(Set.copyOf(PROBED_METHODS));
            for (String method : PROBED_METHODS) {
                io.restassured.response.Response answer = answers.get(method);
                if (answered.contains(method)) {
                    continue;
                }
                assertThat(answer.statusCode()).as(method + " " + path + ": " + answer.asString()).isEqualTo(405);
                assertThat(allowed(answer)).as("Allow of " + method + " " + path).isEqualTo(answered);
                if (!method.equals("HEAD")) {
                    assertThat(answer.contentType()).as(method + " " + path).startsWith("application/problem+json");
                    assertThat(answer.asString()).as(method + " " + path)
                            .contains("urn:credential-broker:problem:method-not-allowed");
                }
            }
            assertThat(allowed(answers.get("OPTIONS"))).as("Allow of OPTIONS " + path).isEqualTo(answered);
        }
        assertThat(azureAd.server().getAllServeEvents()).isEmpty();
    }

    private static Set<String> allowed(io.restassured.response.Response answer) {
        List<String> headers = answer.headers().getValues("Allow");
        assertThat(headers).as("Allow headers").hasSize(1);
        return Arrays.stream(headers.get(0).split(",")).map(String::trim).collect(Collectors.toSet());
    }

    /** No stack trace, no Java class, no list of the broker's resources, no upstream or secret. */
    private void assertNothingLeaks(String request, String body) {
        assertThat(body).as(request).doesNotContain("Exception", "\tat ", "io.credentialbroker", "io.quarkus",
                "org.jboss", "/v1/environments/{", "Resource not found", "<html", SANDBOX.clientSecret(),
                PRIMARY.clientSecret(), vault.rootToken());
    }

    @Test
    void listsEnvironmentsWithTheirCloudAndTokenState() {
        cacheAToken();

        given().get("/v1/environments").then().statusCode(200)
                .body("environments.name", hasItems("primary", "rotating", "sandbox"))
                .body("environments.find { it.name == 'sandbox' }.cloud", equalTo("public"))
                .body("environments.find { it.name == 'sandbox' }.token_state", equalTo("fresh"))
                .body("environments.find { it.name == 'sandbox' }.expires_at", notNullValue())
                .body(not(containsString("fake-sandbox-token")));
    }

    @Test
    void servesAnOpenApiDescription() {
        given().accept("application/json").get("/q/openapi").then().statusCode(200)
                .body(containsString("/v1/environments/{environment}/token"));
    }

    private void assertThatTheNextGoodAnswerIsServed() {
        String good = newToken(SANDBOX, "good");
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(issued(good, 3600)));
        clock.advance(Duration.ofMinutes(1)); // past the quiet period after the failure
        requestToken("sandbox").statusCode(200).body("access_token", equalTo(good));
    }

    private String cacheAToken() {
        String token = newToken(SANDBOX, "cached");
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(issued(token, 3600)));
        requestToken("sandbox").statusCode(200).body("access_token", equalTo(token));
        return token;
    }

    private static double delta(String before, String after, String series, String... labels) {
        return value(after, series, labels) - value(before, series, labels);
    }

    private static ValidatableResponse requestToken(String environment) {
        return given().post("/v1/environments/{environment}/token", environment).then();
    }

    private URI tokenUri(String environment) {
        return URI.create(broker.toString()).resolve("/v1/environments/" + environment + "/token");
    }

    private static LoggedRequest single(List<LoggedRequest> requests) {
        assertThat(requests).hasSize(1);
        return requests.get(0);
    }

    private static Map<String, String> form(LoggedRequest request) {
        return Arrays.stream(request.getBodyAsString().split("&")).map(pair -> pair.split("=", 2))
                .collect(Collectors.toMap(pair -> decode(pair[0]), pair -> decode(pair[1])));
    }

    private static String decode(String value) {
        return URLDecoder.decode(value, StandardCharsets.UTF_8);
    }
}
