package io.credentialbroker.api;

import static io.credentialbroker.testing.AzureAdStandIn.error;
import static io.credentialbroker.testing.AzureAdStandIn.held;
import static io.credentialbroker.testing.AzureAdStandIn.issued;
import static io.credentialbroker.testing.AzureAdStandIn.newToken;
import static io.credentialbroker.testing.AzureAdStandIn.tokenRequest;
import static io.credentialbroker.testing.Fixtures.LAB;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.endsWith;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import jakarta.inject.Inject;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;

import io.credentialbroker.config.BrokerExecutors;
import io.credentialbroker.credential.ClientSecret;
import io.credentialbroker.credential.PartnerCredential;
import io.credentialbroker.testing.AzureAdStandInResource;
import io.credentialbroker.testing.CallerIssuer;
import io.credentialbroker.testing.CallerIssuerResource;
import io.credentialbroker.testing.CapturedAudit;
import io.credentialbroker.testing.Fixtures;
import io.credentialbroker.testing.StandInTest;
import io.credentialbroker.testing.VaultStandIn;
import io.credentialbroker.testing.VaultStandInResource;
import io.credentialbroker.token.TokenService;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.ExtractableResponse;
import io.restassured.response.Response;
import io.restassured.response.ValidatableResponse;

/**
 * The credential endpoints end to end, on the {@code lab} environment, which no other test uses:
 * HTTP in, Vault (the KV v2 stand-in with check-and-set) and Azure AD (WireMock) over loopback,
 * time from a clock the tests tick. In this profile a rotation request waits 2 s for the proof and
 * proofs are retried every 25-50 ms.
 */
@QuarkusTest
@WithTestResource(AzureAdStandInResource.class)
@WithTestResource(CallerIssuerResource.class)
@WithTestResource(VaultStandInResource.class)
class CredentialEndpointTest extends StandInTest {

    private static final String CREDENTIALS = "/v1/environments/lab/credentials";
    private static final String MOUNT = VaultStandIn.DEFAULT_MOUNT;
    private static final Duration PROOF_TIMEOUT = Duration.ofMinutes(10);

    @Inject
    TokenService tokens;

    @Inject
    BrokerExecutors executors;

    private CapturedAudit audit;
    /** Generated per test, so a leak check searches for exactly it. */
    private String newSecret;

    @BeforeEach
    void startFromVersionOne() {
        CallerIssuerResource.actAs(issuer, CallerIssuer.OPERATOR);
        clock.moveToNewDay(); // past every token, backoff and rotation deadline earlier tests left
        azureAd.reset();
        Fixtures.seed(vault);
        // as on a fresh replica, the lab cache mints with version 1, whatever earlier tests rotated to
        tokens.activate("lab",
                new PartnerCredential(LAB.clientId(), new ClientSecret(LAB.clientSecret()), LAB.domain(), 1, null));
        newSecret = "fake-lab-secret-new-" + UUID.randomUUID();
        audit = CapturedAudit.start();
    }

    /**
     * The lab environment's credential events; token issuances are audited too, but not looked at here.
     */
    private List<JsonNode> credentialEvents() {
        return audit.events("lab").stream().filter(event -> event.path("action").asText().startsWith("credentials"))
                .toList();
    }

    @AfterEach
    void stopCapture() {
        audit.close();
        azureAd.release();
    }

    // ---- reading ---------------------------------------------------------------------------------

    @Test
    @DisplayName("the current credential: ids, version, creation time and a hint of the secret, never the secret; ETag names the version")
    void readsTheCurrentCredential() {
        String body = given().header(RequestIds.HEADER, "read-lab-credential-1").get(CREDENTIALS).then().statusCode(200)
                .header("ETag", "\"1\"")
                .header("Cache-Control", "no-store")
                .body("environment", equalTo("lab"))
                .body("client_id", equalTo(LAB.clientId()))
                .body("domain", equalTo(LAB.domain()))
                .body("version", equalTo(1))
                .body("created_time", notNullValue())
                .body("secret_hint", equalTo(LAB.clientSecret().substring(0, 3) + "…"))
                .extract().asString();

        assertThat(body).doesNotContain(LAB.clientSecret());
        assertThat(credentialEvents()).singleElement().satisfies(event -> {
            assertThat(event.path("action").asText()).isEqualTo("credentials.read");
            assertThat(event.path("caller").asText()).isEqualTo(CallerIssuer.OPERATOR);
            assertThat(event.path("credential_version").asInt()).isEqualTo(1);
            assertThat(event.path("request_id").asText()).as("the request it was read in")
                    .isEqualTo("read-lab-credential-1");
        });
    }

    @Test
    @DisplayName("the history: every readable version with its hint, newest first; deleted and destroyed versions left out")
    void listsTheVersionsWithHints() {
        for (int i = 2; i <= 4; i++) {
            vault.put(MOUNT, LAB.vaultPath(), LAB.withSecret("v" + i + "-fake-lab-secret").vaultData());
        }
        vault.deleteVersions(MOUNT, LAB.vaultPath(), 2);
        vault.destroyVersions(MOUNT, LAB.vaultPath(), 3);

        String body = given().get(CREDENTIALS + "/versions").then().statusCode(200)
                .header("Cache-Control", "no-store")
                .body("current_version", equalTo(4))
                .body("versions.version", equalTo(List.of(4, 1)))
                .body("versions[0].current", equalTo(true))
                .body("versions[0].secret_hint", equalTo("v4-…"))
                .body("versions[1].current", equalTo(false))
                .body("versions[1].client_id", equalTo(LAB.clientId()))
                .extract().asString();

        assertThat(body).doesNotContain(LAB.clientSecret(), "v4-fake-lab-secret");
    }

    // ---- rotating --------------------------------------------------------------------------------

    @Test
    @DisplayName("case 25: a key Azure AD accepts is stored as version 2 (200, ETag \"2\"), the next token is minted with it, and no answer or audit event holds it")
    void rotatesToAProvedKey() {
        String before = cacheATokenWithTheOldKey();
        String proof = newToken(LAB, "proof");
        azureAd.stub(tokenRequest(LAB.domain(), LAB.clientId(), newSecret).willReturn(issued(proof, 3600)));

        String answer = rotate("\"1\"", "{\"client_secret\": \"" + newSecret + "\"}").statusCode(200)
                .header("ETag", "\"2\"")
                .header("Cache-Control", "no-store")
                .body("state", equalTo("completed"))
                .body("action", equalTo("rotate"))
                .body("from_version", equalTo(1))
                .body("version", equalTo(2))
                .extract().asString();

        assertThat(answer).doesNotContain(newSecret, LAB.clientSecret(), proof);
        assertThat(vault.currentVersion(MOUNT, LAB.vaultPath())).hasValue(2);
        assertThat(vault.data(MOUNT, LAB.vaultPath(), 2)).hasValue(Map.of("client_id", LAB.clientId(),
                "client_secret", newSecret, "domain", LAB.domain()));
        // the token that proved the stored key is served from now on, not asked for again
        assertThat(before).isNotEqualTo(proof);
        requestToken().statusCode(200).body("access_token", equalTo(proof)).body("credential_version", equalTo(2));
        assertThat(azureAd.tokenRequests(LAB.domain())).as("the first token and the proof").isEqualTo(2);

        clock.moveToNewDay();
        String after = newToken(LAB, "after-rotation");
        azureAd.stub(tokenRequest(LAB.domain(), LAB.clientId(), newSecret).willReturn(issued(after, 3600)));
        requestToken().statusCode(200).body("access_token", equalTo(after)).body("credential_version", equalTo(2));
        assertThat(form(last(azureAd.requests(LAB.domain())))).containsEntry("client_secret", newSecret)
                .containsEntry("client_id", LAB.clientId());

        List<JsonNode> events = credentialEvents();
        assertThat(events).filteredOn(event -> event.path("action").asText().equals("credentials.rotate"))
                .extracting(event -> event.path("outcome").asText()).containsExactly("proving", "succeeded");
        assertThat(events).last().satisfies(event -> {
            assertThat(event.path("from_version").asInt()).isEqualTo(1);
            assertThat(event.path("to_version").asInt()).isEqualTo(2);
        });
        assertThat(audit.text()).doesNotContain(newSecret, LAB.clientSecret(), proof);
    }

    @Test
    @DisplayName("case 24: a key Azure AD refuses as misconfigured (AADSTS700016): 422 at once, Vault unchanged, the old key still serving")
    void aKeyRefusedAsMisconfiguredChangesNothing() {
        azureAd.stub(tokenRequest(LAB.domain(), LAB.clientId(), newSecret)
                .willReturn(error(400, "unauthorized_client", 700016)));

        String answer = rotate("\"1\"", "{\"client_secret\": \"" + newSecret + "\"}").statusCode(422)
                .contentType(Problem.MEDIA_TYPE)
                .header("Cache-Control", "no-store")
                .body("code", equalTo("azure_ad_rejected_configuration"))
                .body("environment", equalTo("lab"))
                .body("detail", containsString("AADSTS700016"))
                .extract().asString();

        assertThat(answer).doesNotContain(newSecret, "must never repeat");
        assertThat(azureAd.tokenRequests(LAB.domain())).isEqualTo(1);
        assertThat(vault.currentVersion(MOUNT, LAB.vaultPath())).hasValue(1);
        assertThat(vault.count("POST", Fixtures.dataPath(LAB))).isZero();
        assertThat(credentialEvents()).last().satisfies(event -> {
            assertThat(event.path("outcome").asText()).isEqualTo("failed");
            assertThat(event.path("error_code").asText()).isEqualTo("azure_ad_rejected_configuration");
            assertThat(event.path("azure_ad_error_codes").toString()).isEqualTo("[700016]");
        });

        String token = newToken(LAB, "old-key");
        azureAd.stub(tokenRequest(LAB.domain(), LAB.clientId(), LAB.clientSecret()).willReturn(issued(token, 3600)));
        requestToken().statusCode(200).body("access_token", equalTo(token)).body("credential_version", equalTo(1));
    }

    @Test
    @DisplayName("a new key Azure AD does not accept yet (AADSTS7000215): 202 and proving in the background while the old key serves, then completed")
    void provesInTheBackgroundUntilAzureAdAcceptsTheKey() {
        azureAd.stub(tokenRequest(LAB.domain(), LAB.clientId(), newSecret)
                .willReturn(error(401, "invalid_client", 7000215)));

        ExtractableResponse<Response> accepted = rotate("\"1\"", "{\"client_secret\": \"" + newSecret + "\"}")
                .statusCode(202)
                .header("Location", notNullValue())
                .body("state", equalTo("proving"))
                .body("error_code", equalTo("credential_invalid"))
                .extract();
        String location = accepted.header("Location");
        assertThat(location).startsWith("/v1/environments/lab/credentials/rotations/")
                .endsWith(accepted.path("id").toString());
        assertThat(azureAd.tokenRequests(LAB.domain())).as("asked again while the request waited").isGreaterThan(1);
        assertThat(vault.currentVersion(MOUNT, LAB.vaultPath())).hasValue(1);
        String old = newToken(LAB, "old-key");
        azureAd.stub(tokenRequest(LAB.domain(), LAB.clientId(), LAB.clientSecret()).willReturn(issued(old, 3600)));
        requestToken().statusCode(200).body("access_token", equalTo(old));

        // the key has propagated
        azureAd.stub(
                tokenRequest(LAB.domain(), LAB.clientId(), newSecret).willReturn(issued(newToken(LAB, "p"), 3600)));

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> given().get(location).then().statusCode(200)
                .header("Cache-Control", "no-store")
                .body("state", equalTo("completed"))
                .body("version", equalTo(2))
                .body("error_code", nullValue()));
        assertThat(vault.data(MOUNT, LAB.vaultPath(), 2).orElseThrow()).containsEntry("client_secret", newSecret);
    }

    @Test
    @DisplayName("a key Azure AD refuses until the deadline passes on the clock: failed with the AADSTS code, nothing stored")
    void failsAtTheDeadlineAndStoresNothing() {
        azureAd.stub(tokenRequest(LAB.domain(), LAB.clientId(), newSecret)
                .willReturn(error(401, "invalid_client", 7000215)));
        String location = rotate("\"1\"", "{\"client_secret\": \"" + newSecret + "\"}").statusCode(202)
                .extract().header("Location");

        clock.advance(PROOF_TIMEOUT);

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> given().get(location).then().statusCode(200)
                .body("state", equalTo("failed"))
                .body("error_code", equalTo("credential_invalid"))
                .body("azure_ad_error_codes", equalTo(List.of(7000215)))
                .body("finished_at", notNullValue()));
        assertThat(vault.currentVersion(MOUNT, LAB.vaultPath())).hasValue(1);
        assertThat(vault.count("POST", Fixtures.dataPath(LAB))).isZero();
        assertThat(credentialEvents()).last().satisfies(event -> {
            assertThat(event.path("outcome").asText()).isEqualTo("failed");
            assertThat(event.path("azure_ad_error_codes").toString()).isEqualTo("[7000215]");
        });
    }

    @Test
    @DisplayName("DELETE cancels a rotation that is proving: nothing is stored, even once Azure AD would accept the key")
    void cancelsAProvingRotation() {
        azureAd.stub(tokenRequest(LAB.domain(), LAB.clientId(), newSecret)
                .willReturn(error(401, "invalid_client", 7000215)));
        String location = rotate("\"1\"", "{\"client_secret\": \"" + newSecret + "\"}").statusCode(202)
                .extract().header("Location");

        given().delete(location).then().statusCode(200).header("Cache-Control", "no-store")
                .body("state", equalTo("cancelled"));

        int requestsAtCancel = azureAd.tokenRequests(LAB.domain());
        azureAd.stub(
                tokenRequest(LAB.domain(), LAB.clientId(), newSecret).willReturn(issued(newToken(LAB, "p"), 3600)));
        // an attempt already running may end; after it no attempt is running or scheduled, so none can come
        ScheduledThreadPoolExecutor rotations = (ScheduledThreadPoolExecutor) executors.rotations();
        await().atMost(Duration.ofSeconds(5)).alias("no rotation attempt running or scheduled")
                .until(() -> rotations.getQueue().isEmpty() && rotations.getActiveCount() == 0);
        assertThat(azureAd.tokenRequests(LAB.domain())).as("at most the attempt that was already running")
                .isBetween(requestsAtCancel, requestsAtCancel + 1);
        given().get(location).then().body("state", equalTo("cancelled"));
        given().delete(location).then().statusCode(200).body("state", equalTo("cancelled"));
        assertThat(vault.currentVersion(MOUNT, LAB.vaultPath())).hasValue(1);
        assertThat(credentialEvents()).extracting(event -> event.path("action").asText())
                .contains("credentials.rotate.cancel");
    }

    @Test
    void refusesToCancelACompletedRotation() {
        azureAd.stub(
                tokenRequest(LAB.domain(), LAB.clientId(), newSecret).willReturn(issued(newToken(LAB, "p"), 3600)));
        String id = rotate("\"1\"", "{\"client_secret\": \"" + newSecret + "\"}").statusCode(200).extract().path("id");

        given().delete(CREDENTIALS + "/rotations/" + id).then().statusCode(409).contentType(Problem.MEDIA_TYPE)
                .body("code", equalTo("rotation_finished"));
    }

    @Test
    @DisplayName("a rotation that replaces an expired key ends the outage at once: its proof is served, with no quiet period left to wait out")
    void servesTheProofOfARotationThatFixesAnExpiredKey() {
        azureAd.stub(tokenRequest(LAB.domain(), LAB.clientId(), LAB.clientSecret())
                .willReturn(error(401, "invalid_client", 7000222)));
        requestToken().statusCode(503).body("code", equalTo("credential_expired"));
        String proof = newToken(LAB, "proof");
        azureAd.stub(tokenRequest(LAB.domain(), LAB.clientId(), newSecret).willReturn(issued(proof, 3600)));

        rotate("\"1\"", "{\"client_secret\": \"" + newSecret + "\"}").statusCode(200).body("version", equalTo(2));

        // within the 30 s quiet period after the failed mint, and without another request to Azure AD
        requestToken().statusCode(200).body("access_token", equalTo(proof)).body("credential_version", equalTo(2));
        assertThat(form(last(azureAd.requests(LAB.domain())))).containsEntry("client_secret", newSecret);
        assertThat(azureAd.requests(LAB.domain())).filteredOn(request -> form(request).get("client_secret")
                .equals(newSecret)).hasSize(1);
    }

    @Test
    @DisplayName("a proof respects the tenant's throttling: while Azure AD's Retry-After runs, the new key is not sent, and it is once the window has passed")
    void provesOnlyOnceTheTenantsRetryAfterHasPassed() {
        azureAd.stub(tokenRequest(LAB.domain(), LAB.clientId(), LAB.clientSecret())
                .willReturn(error(429, "temporarily_unavailable", 50196).withHeader("Retry-After", "60")));
        requestToken().statusCode(503).body("code", equalTo("azure_ad_throttled"));
        azureAd.stub(
                tokenRequest(LAB.domain(), LAB.clientId(), newSecret).willReturn(issued(newToken(LAB, "p"), 3600)));

        String id = rotate("\"1\"", "{\"client_secret\": \"" + newSecret + "\"}").statusCode(202)
                .body("state", equalTo("proving"))
                .body("error_code", equalTo("azure_ad_throttled"))
                .extract().path("id");
        assertThat(azureAd.requests(LAB.domain())).as("nothing sent to the throttled tenant")
                .noneMatch(request -> newSecret.equals(form(request).get("client_secret")));

        clock.advance(Duration.ofSeconds(61));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> given().get(CREDENTIALS + "/rotations/" + id)
                .then().statusCode(200).body("state", equalTo("completed")).body("version", equalTo(2)));
        assertThat(azureAd.requests(LAB.domain())).filteredOn(request -> newSecret.equals(form(request)
                .get("client_secret"))).hasSize(1);
    }

    @Test
    @DisplayName("case 44: a write that landed but was answered after the timeout is read back and reported completed, never 'nothing stored'")
    void readsBackAWriteWhoseAnswerWasLateAndReportsItStored() {
        azureAd.stub(
                tokenRequest(LAB.domain(), LAB.clientId(), newSecret).willReturn(issued(newToken(LAB, "p"), 3600)));
        vault.answerNextWriteLate(Fixtures.dataPath(LAB), Duration.ofSeconds(6)); // stored at once, answered after the 2 s timeout

        ExtractableResponse<Response> answer = rotate("\"1\"", "{\"client_secret\": \"" + newSecret + "\"}")
                .extract();

        assertThat(answer.statusCode()).as(answer.asString()).isIn(200, 202);
        String id = answer.path("id");
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> given().get(CREDENTIALS + "/rotations/" + id)
                .then().statusCode(200).body("state", equalTo("completed")).body("version", equalTo(2)));
        assertThat(vault.currentVersion(MOUNT, LAB.vaultPath())).hasValue(2);
        assertThat(credentialEvents()).filteredOn(event -> event.path("action").asText().equals("credentials.rotate"))
                .extracting(event -> event.path("outcome").asText()).containsExactly("proving", "succeeded");
    }

    @Test
    @DisplayName("case 44: a write lost on the way is reported failed only after Vault was read back and showed nothing stored")
    void readsBackALostWriteBeforeReportingItFailed() {
        azureAd.stub(
                tokenRequest(LAB.domain(), LAB.clientId(), newSecret).willReturn(issued(newToken(LAB, "p"), 3600)));
        vault.loseNextWrite(Fixtures.dataPath(LAB));

        rotate("\"1\"", "{\"client_secret\": \"" + newSecret + "\"}").statusCode(503)
                .body("code", equalTo("vault_unavailable"));

        assertThat(vault.currentVersion(MOUNT, LAB.vaultPath())).hasValue(1);
        List<VaultStandIn.Request> requests = vault.requests();
        int write = -1;
        for (int i = 0; i < requests.size(); i++) {
            if (requests.get(i).method().equals("POST") && requests.get(i).path().equals(Fixtures.dataPath(LAB))) {
                write = i;
            }
        }
        assertThat(write).as("the write went out").isNotNegative();
        assertThat(requests.subList(write + 1, requests.size())).as("Vault was read back after the lost write")
                .anySatisfy(request -> assertThat(request.path()).contains("/metadata/" + LAB.vaultPath()));
    }

    @Test
    @DisplayName("every audit event of a rotation names it (rotation_id), and the one written on a rotation thread names the request that started it")
    void joinsARotationsAuditEvents() {
        azureAd.stub(tokenRequest(LAB.domain()).willReturn(held(issued(newToken(LAB, "p"), 3600))));
        String requestId = "rotation-audit-" + UUID.randomUUID();

        String id = given().contentType("application/json").header("If-Match", "\"1\"")
                .header("X-Request-Id", requestId)
                .body("{\"client_secret\": \"" + newSecret + "\"}").put(CREDENTIALS).then().statusCode(202)
                .extract().path("id");
        azureAd.release();
        await().atMost(Duration.ofSeconds(10))
                .until(() -> vault.currentVersion(MOUNT, LAB.vaultPath()).orElseThrow() == 2);

        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(credentialEvents())
                .filteredOn(event -> event.path("action").asText().equals("credentials.rotate"))
                .extracting(event -> event.path("outcome").asText(), event -> event.path("rotation_id").asText(),
                        event -> event.path("request_id").asText())
                .containsExactly(tuple("proving", id, requestId), tuple("succeeded", id, requestId)));
    }

    @Test
    @DisplayName("case 23: two rotations from the same If-Match at once: exactly one goes ahead (200/202), the other gets 412")
    void letsExactlyOneOfTwoConcurrentRotationsThrough() {
        String otherSecret = "fake-lab-secret-other-" + UUID.randomUUID();
        azureAd.stub(tokenRequest(LAB.domain()).willReturn(held(issued(newToken(LAB, "p"), 3600))));

        CompletableFuture<ExtractableResponse<Response>> first = CompletableFuture.supplyAsync(
                () -> rotate("\"1\"", "{\"client_secret\": \"" + newSecret + "\"}").extract());
        CompletableFuture<ExtractableResponse<Response>> second = CompletableFuture.supplyAsync(
                () -> rotate("\"1\"", "{\"client_secret\": \"" + otherSecret + "\"}").extract());
        azureAd.awaitHeld(1);
        ExtractableResponse<Response> loser = await().atMost(Duration.ofSeconds(10))
                .until(() -> first.isDone() ? first.join() : second.isDone() ? second.join() : null,
                        response -> response != null);
        azureAd.release();
        ExtractableResponse<Response> winner = (loser == first.join() ? second : first).join();

        assertThat(loser.statusCode()).isEqualTo(412);
        assertThat(loser.contentType()).isEqualTo(Problem.MEDIA_TYPE);
        assertThat(loser.<String>path("code")).isEqualTo("rotation_in_progress");
        assertThat(winner.statusCode()).isIn(200, 202);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> vault.currentVersion(MOUNT, LAB.vaultPath()).orElseThrow() == 2);
        assertThat(azureAd.tokenRequests(LAB.domain())).as("the loser proved nothing").isEqualTo(1);
        assertThat(vault.currentVersion(MOUNT, LAB.vaultPath())).hasValue(2);
    }

    @Test
    @DisplayName("case 23: another replica stores a version while this one proves: Vault's check-and-set refuses, 412, the other's version stays")
    void losesTheCheckAndSetRaceToAnotherReplica() {
        azureAd.stub(tokenRequest(LAB.domain(), LAB.clientId(), newSecret)
                .willReturn(held(issued(newToken(LAB, "p"), 3600))));
        CompletableFuture<ExtractableResponse<Response>> rotation = CompletableFuture.supplyAsync(
                () -> rotate("\"1\"", "{\"client_secret\": \"" + newSecret + "\"}").extract());
        azureAd.awaitHeld(1);

        Fixtures.Account otherReplicas = LAB.withSecret("fake-lab-secret-other-replica-" + UUID.randomUUID());
        vault.put(MOUNT, LAB.vaultPath(), otherReplicas.vaultData());
        azureAd.release();

        ExtractableResponse<Response> answer = rotation.join();
        assertThat(answer.statusCode()).isIn(412, 202);
        String outcome = outcomeOf(answer);
        assertThat(outcome).isEqualTo("version_conflict");
        assertThat(vault.currentVersion(MOUNT, LAB.vaultPath())).hasValue(2);
        assertThat(vault.data(MOUNT, LAB.vaultPath(), 2)).hasValue(Map.copyOf(otherReplicas.vaultData()));
    }

    @Test
    @DisplayName("If-Match naming an old version: 412 stale_version before anything is asked of Azure AD")
    void refusesAStaleIfMatch() {
        vault.put(MOUNT, LAB.vaultPath(), LAB.withSecret("fake-lab-secret-v2").vaultData());

        rotate("\"1\"", "{\"client_secret\": \"" + newSecret + "\"}").statusCode(412)
                .contentType(Problem.MEDIA_TYPE)
                .header("Cache-Control", "no-store")
                .body("code", equalTo("stale_version"))
                .body("field", equalTo("If-Match"))
                .body("detail", containsString("version 2 is current"));
        assertThat(azureAd.tokenRequests(LAB.domain())).isZero();
    }

    @Test
    @DisplayName("no If-Match, or If-Match: *: 428; a malformed one: 400 naming If-Match")
    void requiresIfMatch() {
        given().contentType("application/json").body("{\"client_secret\": \"" + newSecret + "\"}").put(CREDENTIALS)
                .then().statusCode(428).contentType(Problem.MEDIA_TYPE).header("Cache-Control", "no-store")
                .body("code", equalTo("if_match_required")).body("field", equalTo("If-Match"));
        rotate("*", "{\"client_secret\": \"" + newSecret + "\"}").statusCode(428);
        for (String malformed : List.of("W/\"1\"", "\"1", "\"1\", \"2\"", "one", "\"0\"")) {
            rotate(malformed, "{\"client_secret\": \"" + newSecret + "\"}").statusCode(400)
                    .body("field", equalTo("If-Match"));
        }
        // a bare version is taken as the version (no stub: Azure AD's 404 is a configuration error)
        rotate("1", "{\"client_secret\": \"" + newSecret + "\"}").statusCode(422);
        assertThat(azureAd.tokenRequests(LAB.domain())).isEqualTo(1);
        assertThat(vault.count("POST", Fixtures.dataPath(LAB))).isZero();
    }

    @Test
    @DisplayName("case 1: Vault sealed when the rotation starts, or while the key is proved: 503, nothing written")
    void answers503AndWritesNothingWhileVaultIsSealed() {
        vault.seal();
        rotate("\"1\"", "{\"client_secret\": \"" + newSecret + "\"}").statusCode(503)
                .contentType(Problem.MEDIA_TYPE)
                .header("Retry-After", notNullValue())
                .header("Cache-Control", "no-store")
                .body("code", equalTo("vault_unavailable"));
        assertThat(azureAd.tokenRequests(LAB.domain())).isZero();
        vault.unseal();

        azureAd.stub(tokenRequest(LAB.domain(), LAB.clientId(), newSecret)
                .willReturn(held(issued(newToken(LAB, "p"), 3600))));
        CompletableFuture<ExtractableResponse<Response>> rotation = CompletableFuture.supplyAsync(
                () -> rotate("\"1\"", "{\"client_secret\": \"" + newSecret + "\"}").extract());
        azureAd.awaitHeld(1);
        vault.seal();
        azureAd.release();

        ExtractableResponse<Response> answer = rotation.join();
        assertThat(answer.statusCode()).isIn(503, 202);
        String outcome = outcomeOf(answer);
        assertThat(outcome).isEqualTo("vault_unavailable");
        vault.unseal();
        assertThat(vault.currentVersion(MOUNT, LAB.vaultPath())).hasValue(1);
        assertThat(vault.data(MOUNT, LAB.vaultPath(), 2)).isEmpty();
    }

    @Test
    @DisplayName("case 8: on a mount with cas_required the rotation's write carries options.cas and succeeds")
    void rotatesOnAMountThatRequiresCheckAndSet() {
        vault.configureMount(MOUNT, 0, true);
        azureAd.stub(
                tokenRequest(LAB.domain(), LAB.clientId(), newSecret).willReturn(issued(newToken(LAB, "p"), 3600)));

        rotate("\"1\"", "{\"client_secret\": \"" + newSecret + "\"}").statusCode(200).body("version", equalTo(2));

        assertThat(vault.data(MOUNT, LAB.vaultPath(), 2).orElseThrow()).containsEntry("client_secret", newSecret);
    }

    @Test
    @DisplayName("restore_version: version 1's key is proved again and stored as version 3; the next token uses it")
    void restoresAnEarlierVersion() {
        azureAd.stub(
                tokenRequest(LAB.domain(), LAB.clientId(), newSecret).willReturn(issued(newToken(LAB, "p"), 3600)));
        rotate("\"1\"", "{\"client_secret\": \"" + newSecret + "\"}").statusCode(200);
        String proofOfV1 = newToken(LAB, "proof-of-v1");
        azureAd.stub(
                tokenRequest(LAB.domain(), LAB.clientId(), LAB.clientSecret()).willReturn(issued(proofOfV1, 3600)));

        rotate("\"2\"", "{\"restore_version\": 1}").statusCode(200)
                .header("ETag", "\"3\"")
                .body("action", equalTo("restore"))
                .body("restore_version", equalTo(1))
                .body("version", equalTo(3));

        assertThat(vault.data(MOUNT, LAB.vaultPath(), 3)).hasValue(Map.copyOf(LAB.vaultData()));
        assertThat(form(last(azureAd.requests(LAB.domain())))).containsEntry("client_secret", LAB.clientSecret());
        // the token that proved the restored key is served, minted with version 3's key
        requestToken().statusCode(200).body("access_token", equalTo(proofOfV1)).body("credential_version", equalTo(3));
        assertThat(credentialEvents()).last().satisfies(event -> {
            assertThat(event.path("action").asText()).isEqualTo("credentials.restore");
            assertThat(event.path("to_version").asInt()).isEqualTo(3);
        });
    }

    @Test
    void refusesToRestoreAVersionThatIsGone() {
        vault.put(MOUNT, LAB.vaultPath(), LAB.withSecret("fake-lab-secret-v2").vaultData());
        vault.deleteVersions(MOUNT, LAB.vaultPath(), 1);

        for (String version : List.of("1", "7")) {
            rotate("\"2\"", "{\"restore_version\": " + version + "}").statusCode(422)
                    .contentType(Problem.MEDIA_TYPE)
                    .body("code", equalTo("restore_version_unavailable"))
                    .body("field", equalTo("restore_version"));
        }
        assertThat(azureAd.tokenRequests(LAB.domain())).isZero();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badInput")
    @DisplayName("bad input: 400 problem+json naming the field; nothing asked of Azure AD or written to Vault")
    void refusesBadInputNamingTheField(String why, String body, String field) {
        String answer = rotate("\"1\"", body).statusCode(400)
                .contentType(Problem.MEDIA_TYPE)
                .header("Cache-Control", "no-store")
                .body("type", equalTo("urn:credential-broker:problem:invalid-request"))
                .body("field", equalTo(field))
                .extract().asString();

        assertThat(answer).doesNotContain("fake-lab-secret-in-a-bad-request");
        assertThat(azureAd.tokenRequests(LAB.domain())).isZero();
        assertThat(vault.count("POST", Fixtures.dataPath(LAB))).isZero();
    }

    static Stream<Arguments> badInput() {
        String secret = "fake-lab-secret-in-a-bad-request";
        return Stream.of(
                Arguments.of("empty secret", "{\"client_secret\": \"\"}", "client_secret"),
                Arguments.of("too-short secret", "{\"client_secret\": \"fake-secret\"}", "client_secret"),
                Arguments.of("over-long secret", "{\"client_secret\": \"" + "x".repeat(257) + "\"}", "client_secret"),
                Arguments.of("secret with a space", "{\"client_secret\": \"fake lab secret\"}", "client_secret"),
                Arguments.of("secret as a number", "{\"client_secret\": 12345}", "client_secret"),
                Arguments.of("secret null", "{\"client_secret\": null}", "client_secret"),
                Arguments.of("no secret", "{\"client_id\": \"" + LAB.clientId() + "\"}", "client_secret"),
                Arguments.of("empty object", "{}", "client_secret"),
                Arguments.of("client_id not a GUID",
                        "{\"client_secret\": \"" + secret + "\", \"client_id\": \"sandbox-app\"}", "client_id"),
                Arguments.of("client_id as a number", "{\"client_secret\": \"" + secret + "\", \"client_id\": 7}",
                        "client_id"),
                Arguments.of("single-label domain", "{\"client_secret\": \"" + secret + "\", \"domain\": \"contoso\"}",
                        "domain"),
                Arguments.of("domain with a path",
                        "{\"client_secret\": \"" + secret + "\", \"domain\": \"contoso.com/../x\"}", "domain"),
                Arguments.of("over-long domain",
                        "{\"client_secret\": \"" + secret + "\", \"domain\": \"" + "a.".repeat(130) + "com\"}",
                        "domain"),
                Arguments.of("unknown field", "{\"client_secret\": \"" + secret + "\", \"tenant\": \"evil\"}",
                        "tenant"),
                Arguments.of("secret and restore_version", "{\"client_secret\": \"" + secret
                        + "\", \"restore_version\": 1}", "restore_version"),
                Arguments.of("restore_version as a string", "{\"restore_version\": \"1\"}", "restore_version"),
                Arguments.of("restore_version zero", "{\"restore_version\": 0}", "restore_version"),
                Arguments.of("restore_version fractional", "{\"restore_version\": 1.5}", "restore_version"),
                Arguments.of("restore_version with client_id",
                        "{\"restore_version\": 1, \"client_id\": \"" + LAB.clientId() + "\"}", "client_id"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedBodies")
    @DisplayName("a body that is not one JSON object: 400, repeating nothing of it")
    void refusesMalformedBodies(String why, String body) {
        String answer = rotate("\"1\"", body).statusCode(400).contentType(Problem.MEDIA_TYPE)
                .body("field", nullValue()).extract().asString();

        assertThat(answer).doesNotContain("fake-lab-secret-in-a-bad-request");
        assertThat(azureAd.tokenRequests(LAB.domain())).isZero();
    }

    static Stream<Arguments> malformedBodies() {
        String secret = "fake-lab-secret-in-a-bad-request";
        return Stream.of(Arguments.of("not JSON", "client_secret=" + secret),
                Arguments.of("an array", "[\"" + secret + "\"]"),
                Arguments.of("a field twice", "{\"client_secret\": \"a-b-c\", \"client_secret\": \"" + secret + "\"}"),
                Arguments.of("trailing garbage", "{\"client_secret\": \"" + secret + "\"} x"),
                Arguments.of("a secret as a field name", "{\"" + secret + " \": 1}"),
                Arguments.of("empty", " "));
    }

    @Test
    @DisplayName("case 26: a secret in the query string is refused (400) and not repeated; the credential endpoints take none")
    void refusesASecretInTheUrl() {
        String answer = given().contentType("application/json").header("If-Match", "\"1\"")
                .queryParam("client_secret", "fake-lab-secret-in-the-url")
                .body("{\"client_secret\": \"" + newSecret + "\"}")
                .put(CREDENTIALS).then().statusCode(400).contentType(Problem.MEDIA_TYPE)
                .header("Cache-Control", "no-store")
                .body("detail", containsString("body only"))
                .extract().asString();
        given().queryParam("password", "fake-lab-secret-in-the-url").get(CREDENTIALS).then().statusCode(400);
        given().queryParam("verbose", "true").get(CREDENTIALS + "/versions").then().statusCode(400)
                .body("detail", not(containsString("body only")));

        assertThat(answer).doesNotContain("fake-lab-secret-in-the-url", newSecret);
        assertThat(azureAd.tokenRequests(LAB.domain())).isZero();
        assertThat(vault.count("POST", Fixtures.dataPath(LAB))).isZero();
    }

    @Test
    void refusesABodyThatIsNotJson() {
        given().contentType("text/plain").header("If-Match", "\"1\"").body("client_secret=x").put(CREDENTIALS)
                .then().statusCode(415).contentType(Problem.MEDIA_TYPE).header("Cache-Control", "no-store");
    }

    @Test
    void answers404ForUnknownEnvironmentsAndRotations() {
        given().get("/v1/environments/staging/credentials").then().statusCode(404).contentType(Problem.MEDIA_TYPE)
                .header("Cache-Control", "no-store")
                .body("type", equalTo("urn:credential-broker:problem:unknown-environment"));
        rotate("\"1\"", "{\"restore_version\": 1}", "/v1/environments/staging/credentials").statusCode(404);
        given().get(CREDENTIALS + "/rotations/" + UUID.randomUUID()).then().statusCode(404)
                .contentType(Problem.MEDIA_TYPE).body("code", equalTo("unknown_rotation"));
        given().delete(CREDENTIALS + "/rotations/" + UUID.randomUUID()).then().statusCode(404);
    }

    @Test
    @DisplayName("nothing stored for the environment is ops' to fix, not the request's: 503 environment_not_configured with Retry-After, as on the token endpoint")
    void answers503WhenNothingIsStoredForTheEnvironment() {
        vault.reset();

        given().get(CREDENTIALS).then().statusCode(503).contentType(Problem.MEDIA_TYPE)
                .header("Retry-After", "30")
                .body("code", equalTo("environment_not_configured"))
                .body("retry_after", equalTo(30));
        rotate("\"1\"", "{\"client_secret\": \"" + newSecret + "\"}").statusCode(503)
                .header("Retry-After", "30").body("code", equalTo("environment_not_configured"));
    }

    @Test
    void describesTheCredentialEndpointsInOpenApi() {
        given().accept("application/json").get("/q/openapi").then().statusCode(200)
                .body(containsString("/v1/environments/{environment}/credentials"))
                .body(containsString("/v1/environments/{environment}/credentials/rotations/{id}"))
                .body(containsString("/v1/environments/{environment}/credentials/versions"));
    }

    // ---- helpers -------------------------------------------------------------------------------

    private String cacheATokenWithTheOldKey() {
        String token = newToken(LAB, "old-key");
        azureAd.stub(tokenRequest(LAB.domain(), LAB.clientId(), LAB.clientSecret()).willReturn(issued(token, 3600)));
        requestToken().statusCode(200).body("access_token", equalTo(token)).body("credential_version", equalTo(1));
        return token;
    }

    /**
     * The failure code of a rotation that failed within the request (the problem's code) or after it
     * (the rotation's error_code): on a loaded machine the 2 s window can pass before the outcome.
     */
    private static String outcomeOf(ExtractableResponse<Response> answer) {
        if (answer.statusCode() != 202) {
            return answer.path("code");
        }
        String location = answer.header("Location");
        await().atMost(Duration.ofSeconds(10))
                .until(() -> given().get(location).then().extract().<String>path("state"), "failed"::equals);
        return given().get(location).then().extract().path("error_code");
    }

    private static ValidatableResponse rotate(String ifMatch, String body) {
        return rotate(ifMatch, body, CREDENTIALS);
    }

    private static ValidatableResponse rotate(String ifMatch, String body, String path) {
        return given().contentType("application/json").header("If-Match", ifMatch).body(body).put(path).then();
    }

    private static ValidatableResponse requestToken() {
        return given().post("/v1/environments/lab/token").then();
    }

    private static LoggedRequest last(List<LoggedRequest> requests) {
        assertThat(requests).isNotEmpty();
        return requests.get(requests.size() - 1);
    }

    private static Map<String, String> form(LoggedRequest request) {
        return Arrays.stream(request.getBodyAsString().split("&")).map(pair -> pair.split("=", 2))
                .collect(Collectors.toMap(pair -> decode(pair[0]), pair -> decode(pair[1])));
    }

    private static String decode(String value) {
        return URLDecoder.decode(value, StandardCharsets.UTF_8);
    }
}
