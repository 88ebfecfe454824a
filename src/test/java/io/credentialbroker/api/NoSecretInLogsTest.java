package io.credentialbroker.api;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static io.credentialbroker.testing.AzureAdStandIn.error;
import static io.credentialbroker.testing.AzureAdStandIn.issued;
import static io.credentialbroker.testing.AzureAdStandIn.newToken;
import static io.credentialbroker.testing.AzureAdStandIn.tokenRequest;
import static io.credentialbroker.testing.Fixtures.LAB;
import static io.credentialbroker.testing.Fixtures.PRIMARY;
import static io.credentialbroker.testing.Fixtures.ROTATING;
import static io.credentialbroker.testing.Fixtures.SANDBOX;
import static io.credentialbroker.testing.ManagementInterface.management;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import jakarta.inject.Inject;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import com.github.tomakehurst.wiremock.http.Fault;

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
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.ExtractableResponse;
import io.restassured.response.Response;

/**
 * Runs the token service's and the credential API's success and failure paths with every log
 * category at TRACE, written to a file, and then searches everything logged, every answer and every
 * audit event for the secrets, tokens and Azure AD texts involved.
 */
@QuarkusTest
@TestProfile(NoSecretInLogsTest.TraceLogging.class)
@WithTestResource(AzureAdStandInResource.class)
@WithTestResource(CallerIssuerResource.class)
@WithTestResource(VaultStandInResource.class)
class NoSecretInLogsTest extends StandInTest {

    static final Path LOG = Path.of("target", "leak-check", "broker-trace.log");

    /**
     * TRACE everywhere but the test's own HTTP client, into a file of its own; the console stays at
     * INFO.
     */
    public static class TraceLogging implements QuarkusTestProfile {

        @Override
        public Map<String, String> getConfigOverrides() {
            try {
                Files.deleteIfExists(LOG);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            return Map.of("quarkus.log.min-level", "TRACE",
                    "quarkus.log.level", "TRACE",
                    "quarkus.log.console.level", "INFO",
                    "quarkus.log.file.enabled", "true",
                    "quarkus.log.file.path", LOG.toString(),
                    "quarkus.log.file.level", "TRACE",
                    "quarkus.log.file.format", "%d %-5p [%c] (%t) %s%e%n",
                    "broker.token.azure-ad.read-timeout", "300MS",
                    // rest-assured's own HTTP client, in the test, prints the answers it receives
                    "quarkus.log.category.\"org.apache.http\".level", "INFO");
        }
    }

    private static final String LAB_CREDENTIALS = "/v1/environments/lab/credentials";

    @Inject
    TokenService tokens;

    @Test
    @DisplayName("cases 33, 34, 35: across success and every failure path at TRACE, no secret, token or Azure AD text is logged")
    void logsNoSecretNoTokenAndNoAzureAdDescription() throws IOException {
        // the audit trail has its own handler (not the log file): it is searched too
        CapturedAudit audit = CapturedAudit.start();
        CallerIssuerResource.actAsNobody();
        List<String> issuedTokens = new ArrayList<>();
        List<String> answers = new ArrayList<>();
        Fixtures.seed(vault);
        // callers' bearer tokens must not be logged either, valid or not, granted or not
        List<String> callerTokens = new ArrayList<>();
        for (String bad : List.of(issuer.tokenSignedByStranger(CallerIssuer.OPERATOR),
                issuer.unsignedToken(CallerIssuer.OPERATOR), issuer.token(CallerIssuer.BILLING, claims -> claims
                        .setExpirationTimeMinutesInTheFuture(-10)),
                issuer.token(CallerIssuer.BILLING))) {
            callerTokens.add(bad);
            answers.add(given().header("Authorization", "Bearer " + bad).post("/v1/environments/primary/token")
                    .then().extract().asString());
        }
        callerTokens.add(CallerIssuerResource.actAs(issuer, CallerIssuer.OPERATOR));

        // success for each environment
        for (Fixtures.Account account : List.of(SANDBOX, PRIMARY, ROTATING)) {
            String token = newToken(account, account.environment());
            issuedTokens.add(token);
            azureAd.stub(tokenRequest(account.domain()).willReturn(issued(token, 3600)));
            answers.add(given().post("/v1/environments/{env}/token", account.environment()).then().statusCode(200)
                    .extract().asString());
        }
        answers.add(given().get("/v1/environments").then().extract().asString());

        // each Azure AD failure, on a cold cache
        List<com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder> failures = List.of(
                error(401, "invalid_client", 7000215), error(401, "invalid_client", 7000222),
                error(400, "unauthorized_client", 700016), error(400, "invalid_request", 90002),
                error(429, "temporarily_unavailable", 50196).withHeader("Retry-After", "60"),
                error(503, "temporarily_unavailable", 0), aResponse().withStatus(503),
                aResponse().withStatus(200).withBody("{\"token_type\":\"Bearer\",\"expires_in\":3599}"),
                aResponse().withStatus(200).withBody("{\"access_token\":\"" + newToken(SANDBOX, "no-expiry") + "\"}"),
                aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER), aResponse().withFault(Fault.EMPTY_RESPONSE),
                aResponse().withFault(Fault.MALFORMED_RESPONSE_CHUNK),
                aResponse().withFault(Fault.RANDOM_DATA_THEN_CLOSE),
                issued(newToken(SANDBOX, "too-late"), 3600).withFixedDelay(1000));
        for (var failure : failures) {
            clock.moveToNewDay();
            azureAd.reset();
            azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(failure));
            answers.add(given().post("/v1/environments/sandbox/token").then().statusCode(503).extract().asString());
        }

        // Vault failures, on a cold cache of an environment whose credential was never read
        clock.moveToNewDay();
        azureAd.reset();
        vault.seal();
        answers.add(given().post("/v1/environments/primary/token").then().extract().asString());
        vault.unseal();
        answers.add(given().get("/v1/environments").then().extract().asString());
        answers.add(management().get("/q/health").then().extract().asString());

        String logged = Files.readString(LOG, StandardCharsets.UTF_8);
        assertThat(logged).as("the capture works: TRACE lines of the broker are in it")
                .contains("Minted a token for environment 'sandbox'").contains("DEBUG").contains("TRACE");
        String audited = audit.text();
        audit.close();
        assertThat(audited).as("the audit capture works").contains("token.issue");
        List<String> forbidden = new ArrayList<>(List.of(SANDBOX.clientSecret(), PRIMARY.clientSecret(),
                ROTATING.clientSecret(), vault.rootToken(), "must never repeat", "client_secret="));
        forbidden.addAll(issuedTokens);
        forbidden.addAll(callerTokens);
        for (String secret : forbidden) {
            assertThat(logged).as("the log").doesNotContain(secret);
            assertThat(audited).as("the audit trail").doesNotContain(secret);
            for (String answer : answers) {
                if (!issuedTokens.contains(secret)) {
                    assertThat(answer).as("an answer").doesNotContain(secret);
                }
            }
        }
    }

    @Test
    @DisplayName("cases 25, 26, 33, 35, 36: rotating, failing, restoring, refusing and reading credentials at TRACE: no old or new secret in any log line, answer or audit event")
    void rotationsLogNoSecret() throws IOException {
        String operatorToken = CallerIssuerResource.actAs(issuer, CallerIssuer.OPERATOR);
        clock.moveToNewDay();
        azureAd.reset();
        Fixtures.seed(vault);
        tokens.activate("lab", new PartnerCredential(LAB.clientId(), new ClientSecret(LAB.clientSecret()), LAB.domain(),
                1, null));
        List<String> secrets = new ArrayList<>(List.of(LAB.clientSecret(), operatorToken));
        List<String> proofTokens = new ArrayList<>();
        List<String> answers = new ArrayList<>();
        try (CapturedAudit audit = CapturedAudit.start()) {
            answers.add(given().get(LAB_CREDENTIALS).then().statusCode(200).extract().asString());

            // a rotation Azure AD accepts, and the next token minted with it
            String accepted = newSecret(secrets);
            String proof = newToken(LAB, "proof");
            proofTokens.add(proof);
            azureAd.stub(tokenRequest(LAB.domain(), LAB.clientId(), accepted).willReturn(issued(proof, 3600)));
            answers.add(settle(rotate("\"1\"", "{\"client_secret\": \"" + accepted + "\"}")));
            azureAd.stub(tokenRequest(LAB.domain(), LAB.clientId(), accepted)
                    .willReturn(issued(newToken(LAB, "served"), 3600)));
            clock.moveToNewDay();
            answers.add(given().post("/v1/environments/lab/token").then().statusCode(200).extract().asString());

            // a key Azure AD refuses as misconfigured
            String misconfigured = newSecret(secrets);
            azureAd.stub(tokenRequest(LAB.domain(), LAB.clientId(), misconfigured)
                    .willReturn(error(400, "unauthorized_client", 700016)));
            answers.add(settle(rotate("\"2\"", "{\"client_secret\": \"" + misconfigured + "\"}")));

            // a key Azure AD never accepts, until the deadline
            String neverAccepted = newSecret(secrets);
            azureAd.stub(tokenRequest(LAB.domain(), LAB.clientId(), neverAccepted)
                    .willReturn(error(401, "invalid_client", 7000215)));
            ExtractableResponse<Response> proving = rotate("\"2\"", "{\"client_secret\": \"" + neverAccepted + "\"}");
            answers.add(proving.asString());
            clock.advance(Duration.ofMinutes(11));
            answers.add(settle(proving));

            // a restore of version 1, proved with the original key
            azureAd.stub(tokenRequest(LAB.domain(), LAB.clientId(), LAB.clientSecret())
                    .willReturn(issued(newToken(LAB, "restore-proof"), 3600)));
            answers.add(settle(rotate("\"2\"", "{\"restore_version\": 1}")));

            // another writer stored a version first (stale If-Match), and Vault sealed
            String racing = newSecret(secrets);
            azureAd.stub(
                    tokenRequest(LAB.domain(), LAB.clientId(), racing).willReturn(issued(newToken(LAB, "p"), 3600)));
            vault.put(VaultStandIn.DEFAULT_MOUNT, LAB.vaultPath(), LAB.withSecret(newSecret(secrets)).vaultData());
            answers.add(settle(rotate("\"3\"", "{\"client_secret\": \"" + racing + "\"}")));
            vault.seal();
            answers.add(settle(rotate("\"4\"", "{\"client_secret\": \"" + racing + "\"}")));
            vault.unseal();

            // refused requests that carry a secret
            String refused = newSecret(secrets);
            answers.add(rotate("\"4\"", "{\"client_secret\": \"" + refused + "\", \"tenant\": \"x\"}").asString());
            answers.add(rotate("\"4\"", "{\"client_secret\": \"" + refused + "\", \"client_id\": \"" + refused
                    + "\"}").asString());
            answers.add(rotate("\"4\"", "{\"" + refused + "\": 1}").asString());
            answers.add(rotate("\"4\"", "client_secret=" + refused).asString());
            answers.add(given().contentType("application/json").header("If-Match", "\"4\"")
                    .queryParam("client_secret", refused).body("{\"client_secret\": \"" + refused + "\"}")
                    .put(LAB_CREDENTIALS).then().statusCode(400).extract().asString());
            answers.add(given().get(LAB_CREDENTIALS + "/versions").then().statusCode(200).extract().asString());

            String events = audit.text();
            assertThat(audit.events("lab")).as("the audit capture works").isNotEmpty();
            assertThat(events).as("the audit capture works").contains("credentials.rotate");
            for (String secret : secrets) {
                assertThat(events).as("the audit events").doesNotContain(secret);
            }
            for (String token : proofTokens) {
                assertThat(events).as("the audit events").doesNotContain(token);
            }
        }

        String logged = Files.readString(LOG, StandardCharsets.UTF_8);
        assertThat(logged).as("the capture works: the rotations' lines are in it")
                .contains("Rotation ", "completed");
        List<String> forbidden = new ArrayList<>(secrets);
        forbidden.addAll(proofTokens);
        forbidden.addAll(List.of(vault.rootToken(), "must never repeat", "client_secret="));
        for (String secret : forbidden) {
            assertThat(logged).as("the log").doesNotContain(secret);
            for (String answer : answers) {
                assertThat(answer).as("an answer").doesNotContain(secret);
            }
        }
    }

    /** A fresh, obviously fake secret, remembered for the search. */
    private static String newSecret(List<String> secrets) {
        String secret = "fake-lab-secret-" + UUID.randomUUID();
        secrets.add(secret);
        return secret;
    }

    private static ExtractableResponse<Response> rotate(String ifMatch, String body) {
        return given().contentType("application/json").header("If-Match", ifMatch).body(body).put(LAB_CREDENTIALS)
                .then().extract();
    }

    /**
     * The answer, and for a 202 the rotation once it ended: at TRACE on a busy machine a proof can
     * outlast the request's window.
     */
    private static String settle(ExtractableResponse<Response> answer) {
        if (answer.statusCode() != 202) {
            return answer.asString();
        }
        String location = answer.header("Location");
        await().atMost(Duration.ofSeconds(10))
                .until(() -> given().get(location).then().extract().<String>path("state"), not(equalTo("proving")));
        return answer.asString() + given().get(location).then().extract().asString();
    }
}
