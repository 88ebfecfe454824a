package io.credentialbroker.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.reflect.Field;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager.TestInjector;

/**
 * The stand-in keeps Vault's KV v2, auth and error semantics over real HTTP
 * (docs/upstream-behaviour.md, "HashiCorp Vault (KV v2)").
 */
class VaultStandInTest {

    private static final String SECRET_PATH = "/v1/secret/data/partner-center/sandbox";
    private static final String METADATA_PATH = "/v1/secret/metadata/partner-center/sandbox";
    private static final ObjectMapper JSON = new ObjectMapper();

    private VaultStandIn vault;

    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2))
            .build();

    // One stand-in per test: a dropped or delayed request may be retried by its client after the test
    // ended, and must not land in the next test's journal or use up its faults.
    @BeforeEach
    void startVault() {
        vault = VaultStandIn.start();
    }

    @AfterEach
    void stopVault() {
        vault.close();
    }

    @Nested
    class Versions {

        @Test
        void readsTheCurrentVersionWithVaultsEnvelope() throws Exception {
            write(Map.of("data", Map.of("client_secret", "fake-sandbox-secret-1")));
            write(Map.of("data", Map.of("client_secret", "fake-sandbox-secret-2")));

            Reply reply = get(SECRET_PATH);

            assertThat(reply.status).isEqualTo(200);
            assertThat(reply.json.path("data").path("data").path("client_secret").asText())
                    .isEqualTo("fake-sandbox-secret-2");
            JsonNode metadata = reply.json.path("data").path("metadata");
            assertThat(metadata.path("version").asInt()).isEqualTo(2);
            assertThat(metadata.path("created_time").asText()).isNotEmpty();
            assertThat(metadata.path("deletion_time").asText()).isEmpty();
            assertThat(metadata.path("destroyed").asBoolean()).isFalse();
            assertThat(metadata.has("custom_metadata")).isTrue();
            assertThat(reply.json.fieldNames()).toIterable().contains("request_id", "lease_id", "renewable",
                    "lease_duration", "data", "wrap_info", "warnings", "auth");
        }

        @Test
        void readsAnOlderVersionOnRequest() throws Exception {
            write(Map.of("data", Map.of("client_secret", "fake-sandbox-secret-1")));
            write(Map.of("data", Map.of("client_secret", "fake-sandbox-secret-2")));

            Reply reply = get(SECRET_PATH + "?version=1");

            assertThat(reply.json.path("data").path("data").path("client_secret").asText())
                    .isEqualTo("fake-sandbox-secret-1");
            assertThat(reply.json.path("data").path("metadata").path("version").asInt()).isEqualTo(1);
        }

        @Test
        void answersAWriteWithTheNewVersionsMetadata() throws Exception {
            Reply first = write(Map.of("data", Map.of("a", "b")));
            Reply second = write(Map.of("data", Map.of("a", "c")));

            assertThat(first.status).isEqualTo(200);
            assertThat(first.json.path("data").path("version").asInt()).isEqualTo(1);
            assertThat(second.json.path("data").path("version").asInt()).isEqualTo(2);
            assertThat(second.json.path("data").path("created_time").asText()).isNotEmpty();
            assertThat(second.json.path("data").path("deletion_time").asText()).isEmpty();
            assertThat(second.json.path("data").path("destroyed").asBoolean()).isFalse();
        }

        @Test
        void acceptsPutLikePost() throws Exception {
            Reply reply = send("PUT", SECRET_PATH, Map.of("data", Map.of("a", "b")));

            assertThat(reply.status).isEqualTo(200);
            assertThat(vault.currentVersion("secret", "partner-center/sandbox")).hasValue(1);
        }

        @Test
        void refusesAWriteWithoutData() throws Exception {
            Reply reply = write(Map.of("options", Map.of()));

            assertThat(reply.status).isEqualTo(400);
            assertThat(errors(reply)).containsExactly("no data provided");
        }

        @Test
        void answersMissingPathsWith404AndNoErrors() throws Exception {
            Reply reply = get(SECRET_PATH);

            assertThat(reply.status).isEqualTo(404);
            assertThat(reply.body).isEqualTo("{\"errors\":[]}");
        }

        @Test
        void answersAMissingVersionWith404() throws Exception {
            write(Map.of("data", Map.of("a", "b")));

            assertThat(get(SECRET_PATH + "?version=7").body).isEqualTo("{\"errors\":[]}");
        }

        @Test
        void answersUnknownMountsWithVaultsRouteError() throws Exception {
            Reply reply = get("/v1/kv-nowhere/data/a");

            assertThat(reply.status).isEqualTo(404);
            assertThat(errors(reply)).singleElement().asString().contains("no handler for route");
        }
    }

    @Nested
    class CheckAndSet {

        @Test
        void writesWhenCasMatchesTheCurrentVersion() throws Exception {
            write(Map.of("data", Map.of("a", "1")));

            Reply reply = write(Map.of("options", Map.of("cas", 1), "data", Map.of("a", "2")));

            assertThat(reply.status).isEqualTo(200);
            assertThat(reply.json.path("data").path("version").asInt()).isEqualTo(2);
        }

        @Test
        void refusesAStaleCasWithVaultsWording() throws Exception {
            write(Map.of("data", Map.of("a", "1")));
            write(Map.of("data", Map.of("a", "2")));

            Reply reply = write(Map.of("options", Map.of("cas", 1), "data", Map.of("a", "3")));

            assertThat(reply.status).isEqualTo(400);
            assertThat(errors(reply)).containsExactly("check-and-set parameter did not match the current version");
            assertThat(vault.currentVersion("secret", "partner-center/sandbox")).hasValue(2);
        }

        @Test
        void treatsCasZeroAsCreateOnly() throws Exception {
            Reply created = write(Map.of("options", Map.of("cas", 0), "data", Map.of("a", "1")));
            Reply again = write(Map.of("options", Map.of("cas", 0), "data", Map.of("a", "2")));

            assertThat(created.status).isEqualTo(200);
            assertThat(again.status).isEqualTo(400);
            assertThat(errors(again)).containsExactly("check-and-set parameter did not match the current version");
            assertThat(vault.data("secret", "partner-center/sandbox", 1)).hasValue(Map.of("a", "1"));
        }

        @Test
        @DisplayName("a mount with cas_required refuses writes without cas (case 8)")
        void mountWithCasRequiredRefusesWritesWithoutCas() throws Exception {
            send("POST", "/v1/secret/config", Map.of("cas_required", true));

            Reply without = write(Map.of("data", Map.of("a", "1")));
            Reply with = write(Map.of("options", Map.of("cas", 0), "data", Map.of("a", "1")));

            assertThat(without.status).isEqualTo(400);
            assertThat(errors(without)).containsExactly("check-and-set parameter required for this call");
            assertThat(with.status).isEqualTo(200);
            assertThat(get("/v1/secret/config").json.path("data").path("cas_required").asBoolean()).isTrue();
        }

        @Test
        void secretWithCasRequiredRefusesWritesWithoutCas() throws Exception {
            write(Map.of("data", Map.of("a", "1")));
            Reply configured = send("POST", METADATA_PATH, Map.of("cas_required", true));

            Reply without = write(Map.of("data", Map.of("a", "2")));

            assertThat(configured.status).isEqualTo(204);
            assertThat(without.status).isEqualTo(400);
            assertThat(errors(without)).containsExactly("check-and-set parameter required for this call");
            assertThat(get(METADATA_PATH).json.path("data").path("cas_required").asBoolean()).isTrue();
        }

        @Test
        void seedingHelperBypassesCasRequired() {
            vault.configureMount("secret", 0, true);

            int version = vault.put("secret", "partner-center/sandbox", Map.of("a", "1"));

            assertThat(version).isEqualTo(1);
        }
    }

    @Nested
    class Metadata {

        @Test
        void listsVersionsAndTheirTimes() throws Exception {
            write(Map.of("data", Map.of("a", "1")));
            write(Map.of("data", Map.of("a", "2")));

            JsonNode data = get(METADATA_PATH).json.path("data");

            assertThat(data.path("current_version").asInt()).isEqualTo(2);
            assertThat(data.path("oldest_version").asInt()).isZero();
            assertThat(data.path("max_versions").asInt()).as("unset on the secret, as Vault shows it").isZero();
            assertThat(data.path("cas_required").asBoolean()).isFalse();
            assertThat(data.path("created_time").asText()).isNotEmpty();
            assertThat(data.path("updated_time").asText()).isNotEmpty();
            assertThat(data.path("versions").fieldNames()).toIterable().containsExactly("1", "2");
            JsonNode first = data.path("versions").path("1");
            assertThat(first.path("created_time").asText()).isNotEmpty();
            assertThat(first.path("deletion_time").asText()).isEmpty();
            assertThat(first.path("destroyed").asBoolean()).isFalse();
        }

        @Test
        void keepsTenVersionsByDefault() throws Exception {
            for (int i = 1; i <= 12; i++) {
                write(Map.of("data", Map.of("n", Integer.toString(i))));
            }

            JsonNode data = get(METADATA_PATH).json.path("data");

            assertThat(data.path("current_version").asInt()).isEqualTo(12);
            assertThat(data.path("oldest_version").asInt()).isEqualTo(3);
            assertThat(data.path("versions").size()).isEqualTo(10);
            assertThat(data.path("versions").has("2")).isFalse();
            assertThat(get(SECRET_PATH + "?version=2").status).isEqualTo(404);
            assertThat(get(SECRET_PATH + "?version=3").status).isEqualTo(200);
        }

        @Test
        void honoursASecretsOwnMaxVersions() throws Exception {
            send("POST", METADATA_PATH, Map.of("max_versions", 2));
            for (int i = 1; i <= 4; i++) {
                write(Map.of("data", Map.of("n", Integer.toString(i))));
            }

            JsonNode data = get(METADATA_PATH).json.path("data");

            assertThat(data.path("max_versions").asInt()).isEqualTo(2);
            assertThat(data.path("versions").fieldNames()).toIterable().containsExactly("3", "4");
            assertThat(vault.data("secret", "partner-center/sandbox", 2)).isEmpty();
        }

        @Test
        void answersMissingMetadataWith404() throws Exception {
            assertThat(get(METADATA_PATH).body).isEqualTo("{\"errors\":[]}");
        }

        @Test
        void deletingMetadataRemovesEveryVersion() throws Exception {
            write(Map.of("data", Map.of("a", "1")));

            Reply deleted = send("DELETE", METADATA_PATH, null);

            assertThat(deleted.status).isEqualTo(204);
            assertThat(get(SECRET_PATH).status).isEqualTo(404);
            assertThat(vault.currentVersion("secret", "partner-center/sandbox")).isEmpty();
        }
    }

    @Nested
    class DeletedVersions {

        @Test
        void answersADeletedVersionWith404AndItsMetadata() throws Exception {
            write(Map.of("data", Map.of("client_secret", "fake-sandbox-secret")));

            Reply deleted = send("DELETE", SECRET_PATH, null);
            Reply read = get(SECRET_PATH);

            assertThat(deleted.status).isEqualTo(204);
            assertThat(read.status).isEqualTo(404);
            assertThat(read.json.path("data").path("data").isNull()).isTrue();
            assertThat(read.json.path("data").path("metadata").path("deletion_time").asText()).isNotEmpty();
            assertThat(read.body).doesNotContain("fake-sandbox-secret");
        }

        @Test
        void undeleteBringsAVersionBack() throws Exception {
            write(Map.of("data", Map.of("a", "1")));
            send("POST", "/v1/secret/delete/partner-center/sandbox", Map.of("versions", List.of(1)));

            send("POST", "/v1/secret/undelete/partner-center/sandbox", Map.of("versions", List.of(1)));

            assertThat(get(SECRET_PATH).status).isEqualTo(200);
        }

        @Test
        void destroyedVersionsLoseTheirDataForGood() throws Exception {
            write(Map.of("data", Map.of("client_secret", "fake-sandbox-secret")));

            Reply destroyed = send("PUT", "/v1/secret/destroy/partner-center/sandbox", Map.of("versions", List.of(1)));
            Reply read = get(SECRET_PATH);

            assertThat(destroyed.status).isEqualTo(204);
            assertThat(read.status).isEqualTo(404);
            assertThat(read.json.path("data").path("metadata").path("destroyed").asBoolean()).isTrue();
            assertThat(vault.data("secret", "partner-center/sandbox", 1)).isEmpty();
            assertThat(get(METADATA_PATH).json.path("data").path("versions").path("1").path("destroyed").asBoolean())
                    .isTrue();
        }

        @Test
        void seedingHelpersDeleteAndDestroyToo() throws Exception {
            vault.put("secret", "partner-center/sandbox", Map.of("a", "1"));
            vault.put("secret", "partner-center/sandbox", Map.of("a", "2"));

            vault.deleteVersions("secret", "partner-center/sandbox", 2);
            vault.destroyVersions("secret", "partner-center/sandbox", 1);

            assertThat(get(SECRET_PATH).status).isEqualTo(404);
            assertThat(get(SECRET_PATH + "?version=1").json.path("data").path("metadata").path("destroyed").asBoolean())
                    .isTrue();
            assertThat(vault.data("secret", "partner-center/sandbox", 2)).as("soft-deleted data is kept")
                    .hasValue(Map.of("a", "2"));
        }
    }

    @Nested
    class Auth {

        @Test
        void refusesAMissingTokenWithPermissionDenied() throws Exception {
            Reply reply = send("GET", SECRET_PATH, null, null);

            assertThat(reply.status).isEqualTo(403);
            assertThat(errors(reply)).containsExactly("permission denied");
        }

        @Test
        @DisplayName("an unknown token answers 403 with invalid token, as Vault does for revoked ones (case 2)")
        void refusesAnUnknownTokenAsInvalid() throws Exception {
            Reply reply = send("GET", SECRET_PATH, null, "hvs.not-a-token-vault-knows");

            assertThat(reply.status).isEqualTo(403);
            assertThat(errors(reply)).containsExactly("permission denied", "invalid token");
        }

        @Test
        void issuesARenewableTokenOnKubernetesLogin() throws Exception {
            vault.acceptKubernetesLogin("credential-broker", "fake-service-account-jwt");
            vault.kubernetesTokenTtl(Duration.ofMinutes(20));
            vault.put("secret", "partner-center/sandbox", Map.of("a", "1"));

            Reply login = login("credential-broker", "fake-service-account-jwt");
            String token = login.json.path("auth").path("client_token").asText();

            assertThat(login.status).isEqualTo(200);
            assertThat(login.json.path("auth").path("lease_duration").asInt()).isEqualTo(1200);
            assertThat(login.json.path("auth").path("renewable").asBoolean()).isTrue();
            assertThat(token).startsWith("hvs.");
            assertThat(send("GET", SECRET_PATH, null, token).status).isEqualTo(200);
            assertThat(vault.issuedTokenCount()).isEqualTo(1);
        }

        @Test
        void refusesAnUnknownRoleAndAWrongServiceAccountToken() throws Exception {
            vault.acceptKubernetesLogin("credential-broker", "fake-service-account-jwt");

            Reply wrongRole = login("someone-else", "fake-service-account-jwt");
            Reply wrongJwt = login("credential-broker", "another-jwt");

            assertThat(wrongRole.status).isEqualTo(400);
            assertThat(errors(wrongRole)).singleElement().asString().startsWith("invalid role name");
            assertThat(wrongJwt.status).isEqualTo(403);
            assertThat(errors(wrongJwt)).containsExactly("permission denied");
        }

        @Test
        void revokedLoginTokensAnswerInvalidToken() throws Exception {
            vault.acceptKubernetesLogin("credential-broker", "fake-service-account-jwt");
            String token = login("credential-broker", "fake-service-account-jwt").json.path("auth")
                    .path("client_token").asText();

            vault.revokeIssuedTokens();
            Reply reply = send("GET", SECRET_PATH, null, token);

            assertThat(reply.status).isEqualTo(403);
            assertThat(errors(reply)).contains("invalid token");
            assertThat(send("GET", SECRET_PATH, null, vault.rootToken()).status).as("root token unaffected")
                    .isEqualTo(404);
        }

        @Test
        void revokingTheRootTokenLocksOutStaticTokenClients() throws Exception {
            vault.revokeRootToken();

            assertThat(errors(get(SECRET_PATH))).contains("invalid token");
        }

        @Test
        void looksUpAndRenewsTheCallersToken() throws Exception {
            vault.acceptKubernetesLogin("credential-broker", "fake-service-account-jwt");
            String token = login("credential-broker", "fake-service-account-jwt").json.path("auth")
                    .path("client_token").asText();

            Reply lookup = send("GET", "/v1/auth/token/lookup-self", null, token);
            Reply renew = send("POST", "/v1/auth/token/renew-self", Map.of(), token);
            Reply renewRoot = send("POST", "/v1/auth/token/renew-self", Map.of(), vault.rootToken());

            assertThat(lookup.status).isEqualTo(200);
            assertThat(lookup.json.path("data").path("renewable").asBoolean()).isTrue();
            assertThat(lookup.json.path("data").path("ttl").asLong()).isPositive();
            assertThat(renew.status).isEqualTo(200);
            assertThat(renew.json.path("auth").path("client_token").asText()).isEqualTo(token);
            assertThat(renew.json.path("auth").path("lease_duration").asInt()).isEqualTo(3600);
            assertThat(renewRoot.status).isEqualTo(400);
            assertThat(errors(renewRoot)).containsExactly("lease is not renewable");
        }
    }

    @Nested
    class Health {

        @Test
        void reportsAnUnsealedVaultWithoutAToken() throws Exception {
            Reply reply = send("GET", "/v1/sys/health", null, null);

            assertThat(reply.status).isEqualTo(200);
            assertThat(reply.json.path("sealed").asBoolean()).isFalse();
            assertThat(reply.json.path("initialized").asBoolean()).isTrue();
        }

        @Test
        void answersHeadWithTheStatusOnly() throws Exception {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri("/v1/sys/health"))
                    .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());

            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).isEmpty();
        }
    }

    @Nested
    class Faults {

        @Test
        @DisplayName("a sealed Vault answers 503 Vault is sealed everywhere but health (case 1)")
        void sealedVaultAnswers503() throws Exception {
            vault.put("secret", "partner-center/sandbox", Map.of("a", "1"));
            vault.seal();

            Reply read = get(SECRET_PATH);
            Reply health = send("GET", "/v1/sys/health", null, null);
            vault.unseal();

            assertThat(read.status).isEqualTo(503);
            assertThat(errors(read)).containsExactly("Vault is sealed");
            assertThat(health.status).isEqualTo(503);
            assertThat(health.json.path("sealed").asBoolean()).isTrue();
            assertThat(get(SECRET_PATH).status).isEqualTo(200);
        }

        @Test
        void failsTheNextRequestsWithAnyStatusThenRecovers() throws Exception {
            vault.put("secret", "partner-center/sandbox", Map.of("a", "1"));
            vault.failNext(2, 500, "internal error");

            Reply first = get(SECRET_PATH);
            Reply second = get(SECRET_PATH);
            Reply third = get(SECRET_PATH);

            assertThat(first.status).isEqualTo(500);
            assertThat(errors(first)).containsExactly("internal error");
            assertThat(second.status).isEqualTo(500);
            assertThat(third.status).isEqualTo(200);
        }

        @Test
        void queuesFaultsInOrderAndSparesHealthChecks() throws Exception {
            vault.put("secret", "partner-center/sandbox", Map.of("a", "1"));
            vault.failNext(1, 429, "rate limit quota exceeded");
            vault.denyNext(1);

            Reply health = send("GET", "/v1/sys/health", null, null);
            Reply throttled = get(SECRET_PATH);
            Reply denied = get(SECRET_PATH);

            assertThat(health.status).isEqualTo(200);
            assertThat(throttled.status).isEqualTo(429);
            assertThat(denied.status).isEqualTo(403);
            assertThat(errors(denied)).containsExactly("permission denied");
            assertThat(get(SECRET_PATH).status).isEqualTo(200);
        }

        @Test
        void keepsAFaultUntilResetWhenAskedToAlways() throws Exception {
            vault.rejectTokenNext(VaultStandIn.ALWAYS);

            for (int i = 0; i < 3; i++) {
                assertThat(errors(get(SECRET_PATH))).containsExactly("permission denied", "invalid token");
            }
            vault.reset();
            assertThat(get(SECRET_PATH).status).isEqualTo(404);
        }

        @Test
        void delaysAnswersUntilTheClientGivesUp() {
            vault.delayNext(1, Duration.ofSeconds(30));
            long started = System.nanoTime();

            assertThatThrownBy(() -> http.send(HttpRequest.newBuilder(uri(SECRET_PATH))
                    .header("X-Vault-Token", vault.rootToken())
                    .timeout(Duration.ofMillis(300)).build(), HttpResponse.BodyHandlers.ofString()))
                    .isInstanceOf(HttpTimeoutException.class);
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
        }

        @Test
        void dropsTheConnectionWithoutAnAnswer() {
            vault.dropConnectionNext(VaultStandIn.ALWAYS);

            assertThatThrownBy(() -> get(SECRET_PATH)).isInstanceOf(IOException.class);
            assertThat(vault.count("GET", SECRET_PATH)).isPositive();
        }

        @Test
        void cutsTheJsonBodyInHalf() throws Exception {
            vault.put("secret", "partner-center/sandbox", Map.of("client_secret", "fake-sandbox-secret"));
            vault.malformedJsonNext(1);

            HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri(SECRET_PATH))
                    .header("X-Vault-Token", vault.rootToken()).build(), HttpResponse.BodyHandlers.ofString());

            assertThat(response.statusCode()).isEqualTo(200);
            assertThatThrownBy(() -> JSON.readTree(response.body())).isInstanceOf(JsonProcessingException.class);
            assertThat(get(SECRET_PATH).status).isEqualTo(200);
        }

        @Test
        void everyErrorStatusCarriesAnErrorsArray() throws Exception {
            List<Reply> replies = new ArrayList<>();
            replies.add(get(SECRET_PATH));
            replies.add(send("GET", SECRET_PATH, null, "hvs.unknown"));
            replies.add(write(Map.of()));
            vault.failNext(1, 502);
            replies.add(get(SECRET_PATH));
            vault.seal();
            replies.add(get(SECRET_PATH));

            assertThat(replies).allSatisfy(reply -> {
                assertThat(reply.status).isGreaterThanOrEqualTo(400);
                assertThat(reply.json.path("errors").isArray()).as(reply.body).isTrue();
            });
        }
    }

    @Nested
    class Journal {

        @Test
        void countsRequestsPerPathAndMethod() throws Exception {
            vault.put("secret", "partner-center/sandbox", Map.of("a", "1"));

            get(SECRET_PATH);
            get(SECRET_PATH + "?version=1");
            get(METADATA_PATH);

            assertThat(vault.count("GET", SECRET_PATH)).isEqualTo(2);
            assertThat(vault.count(METADATA_PATH)).isEqualTo(1);
            assertThat(vault.requests()).extracting(VaultStandIn.Request::query).containsExactly(null, "version=1",
                    null);
        }

        @Test
        void recordsNeitherBodiesNorTokens() throws Exception {
            write(Map.of("data", Map.of("client_secret", "fake-sandbox-secret")));
            vault.acceptKubernetesLogin("credential-broker", "fake-service-account-jwt");
            login("credential-broker", "fake-service-account-jwt");

            String printed = vault.requests().toString() + vault;

            assertThat(printed).contains("POST " + SECRET_PATH, "POST /v1/auth/kubernetes/login")
                    .doesNotContain("fake-sandbox-secret", "fake-service-account-jwt", vault.rootToken(), "hvs.");
        }

        @Test
        void resetForgetsStateFaultsAndJournal() throws Exception {
            vault.put("secret", "partner-center/sandbox", Map.of("a", "1"));
            vault.seal();
            vault.failNext(VaultStandIn.ALWAYS, 500);

            vault.reset();

            assertThat(vault.requests()).isEmpty();
            assertThat(vault.currentVersion("secret", "partner-center/sandbox")).isEmpty();
            assertThat(get(SECRET_PATH).status).isEqualTo(404);
        }
    }

    @Nested
    class Resource {

        static class NeedsVault {

            @InjectVaultStandIn
            VaultStandIn vault;
        }

        @Test
        void startsAStandInAndHandsItsUrlAndAFreshTokenToQuarkus() throws Exception {
            VaultStandInResource resource = new VaultStandInResource();
            Map<String, String> config = resource.start();
            NeedsVault test = new NeedsVault();
            try {
                resource.inject(injectorFor(test));

                assertThat(test.vault).isNotNull();
                assertThat(config).containsEntry("quarkus.vault.url", test.vault.url())
                        .containsEntry("quarkus.vault.authentication.client-token", test.vault.rootToken())
                        .containsEntry("quarkus.vault.devservices.enabled", "false");
                assertThat(test.vault.rootToken()).isNotEqualTo(vault.rootToken());
                assertThat(test.vault.currentVersion("secret", "partner-center/sandbox")).as("seeds nothing")
                        .isEmpty();
            } finally {
                resource.stop();
            }
        }

        private TestInjector injectorFor(Object test) {
            return (Object value, Predicate<Field> predicate) -> {
                for (Field field : test.getClass().getDeclaredFields()) {
                    if (predicate.test(field)) {
                        try {
                            field.setAccessible(true);
                            field.set(test, value);
                        } catch (IllegalAccessException e) {
                            throw new IllegalStateException(e);
                        }
                    }
                }
            };
        }
    }

    // ---- HTTP helpers --------------------------------------------------------------------------

    private record Reply(int status, String body, JsonNode json) {
    }

    private Reply get(String path) throws IOException, InterruptedException {
        return send("GET", path, null, vault.rootToken());
    }

    private Reply write(Map<String, ?> body) throws IOException, InterruptedException {
        return send("POST", SECRET_PATH, body, vault.rootToken());
    }

    private Reply login(String role, String jwt) throws IOException, InterruptedException {
        return send("POST", "/v1/auth/kubernetes/login", Map.of("role", role, "jwt", jwt), null);
    }

    private Reply send(String method, String path, Map<String, ?> body) throws IOException, InterruptedException {
        return send(method, path, body, vault.rootToken());
    }

    private Reply send(String method, String path, Map<String, ?> body, String token)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(5))
                .method(method, body == null
                        ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
        if (token != null) {
            request.header("X-Vault-Token", token);
        }
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        String text = response.body();
        JsonNode json = text.isEmpty() ? JSON.nullNode() : JSON.readTree(text);
        return new Reply(response.statusCode(), text, json);
    }

    private static List<String> errors(Reply reply) {
        List<String> errors = new ArrayList<>();
        reply.json.path("errors").forEach(error -> errors.add(error.asText()));
        return errors;
    }

    private URI uri(String path) {
        return URI.create(vault.url() + path);
    }
}
