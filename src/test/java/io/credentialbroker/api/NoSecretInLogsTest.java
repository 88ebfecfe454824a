package io.credentialbroker.api;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static io.credentialbroker.testing.AzureAdStandIn.error;
import static io.credentialbroker.testing.AzureAdStandIn.issued;
import static io.credentialbroker.testing.AzureAdStandIn.newToken;
import static io.credentialbroker.testing.AzureAdStandIn.tokenRequest;
import static io.credentialbroker.testing.Fixtures.PRIMARY;
import static io.credentialbroker.testing.Fixtures.ROTATING;
import static io.credentialbroker.testing.Fixtures.SANDBOX;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import jakarta.inject.Inject;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import com.github.tomakehurst.wiremock.http.Fault;

import io.credentialbroker.testing.AzureAdStandIn;
import io.credentialbroker.testing.AzureAdStandInResource;
import io.credentialbroker.testing.AzureAdStandInResource.InjectAzureAd;
import io.credentialbroker.testing.CallerIssuer;
import io.credentialbroker.testing.CallerIssuerResource;
import io.credentialbroker.testing.CallerIssuerResource.InjectCallerIssuer;
import io.credentialbroker.testing.Fixtures;
import io.credentialbroker.testing.InjectVaultStandIn;
import io.credentialbroker.testing.TestClock;
import io.credentialbroker.testing.VaultStandIn;
import io.credentialbroker.testing.VaultStandInResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * Runs the token service's success and failure paths with every log category at TRACE, written to a
 * file, and then searches everything logged for the secrets, tokens and Azure AD texts involved.
 */
@QuarkusTest
@TestProfile(NoSecretInLogsTest.TraceLogging.class)
@WithTestResource(AzureAdStandInResource.class)
@WithTestResource(CallerIssuerResource.class)
@WithTestResource(VaultStandInResource.class)
class NoSecretInLogsTest {

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

    @InjectAzureAd
    AzureAdStandIn azureAd;

    @InjectVaultStandIn
    VaultStandIn vault;

    @InjectCallerIssuer
    CallerIssuer issuer;

    @Inject
    TestClock clock;

    @Test
    @DisplayName("cases 33, 34, 35: across success and every failure path at TRACE, no secret, token or Azure AD text is logged")
    void logsNoSecretNoTokenAndNoAzureAdDescription() throws IOException {
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
            String token = newToken(account.environment());
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
                aResponse().withStatus(200).withBody("{\"access_token\":\"" + newToken("no-expiry") + "\"}"),
                aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER), aResponse().withFault(Fault.EMPTY_RESPONSE),
                aResponse().withFault(Fault.MALFORMED_RESPONSE_CHUNK),
                aResponse().withFault(Fault.RANDOM_DATA_THEN_CLOSE),
                issued(newToken("too-late"), 3600).withFixedDelay(1000));
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
        answers.add(given().get("/q/health").then().extract().asString());

        String logged = Files.readString(LOG, StandardCharsets.UTF_8);
        assertThat(logged).as("the capture works: TRACE lines of the broker are in it")
                .contains("Minted a token for environment 'sandbox'").contains("DEBUG").contains("TRACE");
        List<String> forbidden = new ArrayList<>(List.of(SANDBOX.clientSecret(), PRIMARY.clientSecret(),
                ROTATING.clientSecret(), vault.rootToken(), "must never repeat", "client_secret="));
        forbidden.addAll(issuedTokens);
        forbidden.addAll(callerTokens);
        for (String secret : forbidden) {
            assertThat(logged).as("the log").doesNotContain(secret);
            for (String answer : answers) {
                if (!issuedTokens.contains(secret)) {
                    assertThat(answer).as("an answer").doesNotContain(secret);
                }
            }
        }
    }
}
