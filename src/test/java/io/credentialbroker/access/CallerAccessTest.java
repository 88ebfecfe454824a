package io.credentialbroker.access;

import static io.credentialbroker.testing.AzureAdStandIn.issued;
import static io.credentialbroker.testing.AzureAdStandIn.newToken;
import static io.credentialbroker.testing.AzureAdStandIn.tokenRequest;
import static io.credentialbroker.testing.Fixtures.PRIMARY;
import static io.credentialbroker.testing.Fixtures.SANDBOX;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;

import java.util.List;
import java.util.function.Function;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

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
import io.restassured.response.ValidatableResponse;

/**
 * Who gets in, and to what: bearer JWTs verified against a real signing issuer's JWKS over
 * loopback, grants from the tests' configuration (see CallerIssuer's callers).
 */
@QuarkusTest
@WithTestResource(AzureAdStandInResource.class)
@WithTestResource(CallerIssuerResource.class)
@WithTestResource(VaultStandInResource.class)
class CallerAccessTest extends StandInTest {

    CapturedAudit audit;

    @BeforeEach
    void setUp() {
        CallerIssuerResource.actAsNobody();
        clock.moveToNewDay();
        azureAd.reset();
        Fixtures.seed(vault);
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(issued(newToken(SANDBOX, "sandbox"), 3600)));
        azureAd.stub(tokenRequest(PRIMARY.domain()).willReturn(issued(newToken(PRIMARY, "primary"), 3600)));
        audit = CapturedAudit.start();
    }

    @AfterEach
    void tearDown() {
        audit.close();
    }

    @Test
    void servesAGrantedCallerWithAValidToken() {
        as(issuer.token(CallerIssuer.BILLING), "sandbox").statusCode(200).body("environment", equalTo("sandbox"));

        JsonNode event = single(audit.events());
        assertThat(event.get("caller").asText()).isEqualTo(CallerIssuer.BILLING);
        assertThat(event.get("environment").asText()).isEqualTo("sandbox");
        assertThat(event.get("action").asText()).isEqualTo("token.issue");
        assertThat(event.get("outcome").asText()).isEqualTo("granted");
        assertThat(event.get("credential_version").asInt()).isEqualTo(1);
        assertThat(event.get("token_fingerprint").asText()).matches("[0-9a-f]{12}");
        assertThat(event.get("request_id").asText()).isNotBlank();
        assertThat(event.get("time").asText()).isNotBlank();
    }

    @Test
    @DisplayName("case 27: a request without a bearer token is 401 problem+json with WWW-Authenticate: Bearer")
    void refusesARequestWithoutToken() {
        given().post("/v1/environments/sandbox/token").then().statusCode(401)
                .contentType("application/problem+json")
                .header("WWW-Authenticate", containsString("Bearer"))
                .body("type", equalTo("urn:credential-broker:problem:unauthenticated"))
                .body("status", equalTo(401));
        given().get("/v1/environments").then().statusCode(401);
        assertThat(azureAd.server().getAllServeEvents()).isEmpty();
    }

    @Test
    @DisplayName("case 27: garbage, alg none, tampered, wrong key, wrong issuer, wrong audience and expired tokens are 401")
    void refusesEveryKindOfBadToken() {
        List<Function<CallerIssuer, String>> badTokens = List.of(
                i -> "not-a-jwt",
                i -> i.unsignedToken(CallerIssuer.OPERATOR),
                i -> i.tamperedToken(CallerIssuer.BILLING, CallerIssuer.OPERATOR),
                i -> i.tokenSignedByStranger(CallerIssuer.OPERATOR),
                i -> i.token(CallerIssuer.OPERATOR, claims -> claims.setIssuer("https://evil.example")),
                i -> i.token(CallerIssuer.OPERATOR, claims -> claims.setAudience("vault")),
                i -> i.token(CallerIssuer.OPERATOR, claims -> claims.setExpirationTimeMinutesInTheFuture(-5)));
        for (Function<CallerIssuer, String> bad : badTokens) {
            as(bad.apply(issuer), "sandbox").statusCode(401).contentType("application/problem+json")
                    .header("WWW-Authenticate", containsString("Bearer"));
        }
        assertThat(azureAd.server().getAllServeEvents()).isEmpty();
    }

    @Test
    @DisplayName("case 28: a caller granted only sandbox gets 403 on primary, and the denial is audited")
    void deniesPrimaryToSandboxOnlyCaller() {
        as(issuer.token(CallerIssuer.BILLING), "primary").statusCode(403)
                .contentType("application/problem+json")
                .body("type", equalTo("urn:credential-broker:problem:forbidden"))
                .body(not(containsString("fake-primary")));

        JsonNode event = single(audit.events());
        assertThat(event.get("caller").asText()).isEqualTo(CallerIssuer.BILLING);
        assertThat(event.get("environment").asText()).isEqualTo("primary");
        assertThat(event.get("outcome").asText()).isEqualTo("denied");
        assertThat(azureAd.tokenRequests(PRIMARY.domain())).isZero();
    }

    @Test
    @DisplayName("case 22: a caller with credentials but not token cannot mint")
    void deniesTokensToACallerGrantedOnlyCredentials() {
        as(issuer.token(CallerIssuer.OPS_TOOL), "sandbox").statusCode(403);
        assertThat(azureAd.server().getAllServeEvents()).isEmpty();
    }

    @Test
    @DisplayName("case 22: without the credentials permission, or outside its environments, no credential read or rotation")
    void guardsCredentialsByTheCredentialsPermission() {
        String billing = issuer.token(CallerIssuer.BILLING);
        String opsTool = issuer.token(CallerIssuer.OPS_TOOL);

        given().header("Authorization", "Bearer " + opsTool).get("/v1/environments/sandbox/credentials").then()
                .statusCode(200).body("client_id", equalTo(SANDBOX.clientId()));
        given().header("Authorization", "Bearer " + billing).get("/v1/environments/sandbox/credentials").then()
                .statusCode(403).contentType("application/problem+json");
        given().header("Authorization", "Bearer " + billing).header("If-Match", "\"1\"")
                .contentType("application/json").body("{\"client_secret\":\"fake-sandbox-secret-rotated-000\"}")
                .put("/v1/environments/sandbox/credentials").then().statusCode(403);
        given().header("Authorization", "Bearer " + opsTool).get("/v1/environments/rotating/credentials").then()
                .statusCode(403);
        given().get("/v1/environments/sandbox/credentials").then().statusCode(401);

        assertThat(vault.currentVersion(VaultStandIn.DEFAULT_MOUNT, SANDBOX.vaultPath())).hasValue(1);
        assertThat(audit.events()).extracting(event -> event.get("outcome").asText())
                .containsExactly("succeeded", "denied", "denied", "denied");
    }

    @Test
    void deniesAnUnknownCaller() {
        as(issuer.token("system:serviceaccount:default:stranger"), "sandbox").statusCode(403);
        given().header("Authorization", "Bearer " + issuer.token("system:serviceaccount:default:stranger"))
                .get("/v1/environments").then().statusCode(200).body("environments.size()", equalTo(0));
    }

    @Test
    void refusesATokenWithoutASubject() {
        as(issuer.token(CallerIssuer.BILLING, claims -> claims.unsetClaim("sub")), "sandbox").statusCode(401)
                .body("detail", containsString("'sub'"));
    }

    @Test
    @DisplayName("a refusal does not say whether an environment exists")
    void refusesUnknownAndForbiddenEnvironmentsAlike() {
        String forbidden = as(issuer.token(CallerIssuer.BILLING), "primary").statusCode(403).extract().asString();
        String unknown = as(issuer.token(CallerIssuer.BILLING), "staging").statusCode(403).extract().asString();

        assertThat(unknown.replace("staging", "primary")).isEqualTo(forbidden);
        // a caller granted every environment may learn that one does not exist
        as(issuer.token(CallerIssuer.OPERATOR), "staging").statusCode(404);
    }

    @Test
    void listsOnlyTheEnvironmentsACallerMayUse() {
        given().header("Authorization", "Bearer " + issuer.token(CallerIssuer.BILLING)).get("/v1/environments")
                .then().statusCode(200).body("environments.name", equalTo(List.of("sandbox")));
        given().header("Authorization", "Bearer " + issuer.token(CallerIssuer.ORDERS)).get("/v1/environments")
                .then().statusCode(200).body("environments.name", equalTo(List.of("primary", "sandbox")));
    }

    @Test
    void echoesTheCallersRequestIdAndAuditsIt() {
        given().header("Authorization", "Bearer " + issuer.token(CallerIssuer.BILLING))
                .header("X-Request-Id", "billing-run-42").post("/v1/environments/sandbox/token").then()
                .statusCode(200).header("X-Request-Id", "billing-run-42");

        assertThat(single(audit.events()).get("request_id").asText()).isEqualTo("billing-run-42");
    }

    @Test
    @DisplayName("an X-Request-Id that is not one plain token (a space, 65 characters, sent twice) is replaced by the broker's own, in the answer and the audit line alike; a refusal carries the caller's")
    void replacesAnUnusableRequestIdAndKeepsAGoodOneOnRefusals() {
        String bearer = "Bearer " + issuer.token(CallerIssuer.BILLING);
        List<List<String>> unusable = List.of(List.of("has space"), List.of("x".repeat(65)),
                List.of("run-1", "run-2"));
        for (List<String> offered : unusable) {
            String answered = given().header("Authorization", bearer)
                    .header("X-Request-Id", offered.get(0), offered.subList(1, offered.size()).toArray())
                    .post("/v1/environments/sandbox/token").then().statusCode(200).extract().header("X-Request-Id");

            assertThat(answered).as("offered %s", offered).matches("[0-9a-f]{16}-[0-9a-f]+");
            assertThat(audit.events().get(audit.events().size() - 1).get("request_id").asText()).isEqualTo(answered);
        }

        given().header("Authorization", bearer).header("X-Request-Id", "billing-denied-7")
                .post("/v1/environments/primary/token").then().statusCode(403)
                .header("X-Request-Id", "billing-denied-7");
        JsonNode denial = audit.events().get(audit.events().size() - 1);
        assertThat(denial.get("outcome").asText()).isEqualTo("denied");
        assertThat(denial.get("request_id").asText()).isEqualTo("billing-denied-7");
    }

    @Test
    @DisplayName("case 36: audit events name tokens by fingerprint only")
    void auditsNoTokenAndNoCallerJwt() {
        String bearer = issuer.token(CallerIssuer.BILLING);
        String token = as(bearer, "sandbox").statusCode(200).extract().path("access_token");
        as(bearer, "primary").statusCode(403);

        for (String line : audit.lines()) {
            assertThat(line).doesNotContain(token).doesNotContain(bearer).doesNotContain(SANDBOX.clientSecret());
        }
        assertThat(audit.events()).hasSize(2);
    }

    private static ValidatableResponse as(String bearer, String environment) {
        return given().header("Authorization", "Bearer " + bearer)
                .post("/v1/environments/{environment}/token", environment).then();
    }

    private static JsonNode single(List<JsonNode> events) {
        assertThat(events).hasSize(1);
        return events.get(0);
    }
}
