package io.credentialbroker.credential.vault;

import static io.credentialbroker.credential.CredentialStoreException.Reason.INVALID_CONTENT;
import static io.credentialbroker.credential.CredentialStoreException.Reason.NOT_FOUND;
import static io.credentialbroker.credential.CredentialStoreException.Reason.PERMISSION_DENIED;
import static io.credentialbroker.credential.CredentialStoreException.Reason.UNAVAILABLE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import io.credentialbroker.credential.ClientSecret;
import io.credentialbroker.credential.CredentialMetadata;
import io.credentialbroker.credential.CredentialMetadata.VersionMetadata;
import io.credentialbroker.credential.CredentialObserver;
import io.credentialbroker.credential.CredentialStoreException;
import io.credentialbroker.credential.CredentialVersionConflictException;
import io.credentialbroker.credential.PartnerCredential;
import io.credentialbroker.environment.Cloud;
import io.credentialbroker.environment.Environment;
import io.credentialbroker.testing.CapturedLogs;
import io.credentialbroker.testing.Fixtures;
import io.credentialbroker.testing.TestClock;
import io.credentialbroker.testing.VaultStandIn;
import io.quarkus.vault.client.VaultClient;
import io.quarkus.vault.client.api.secrets.kv2.VaultSecretsKV2UpdateSecretOptions;
import io.quarkus.vault.client.auth.VaultKubernetesAuthOptions;
import io.quarkus.vault.client.http.jdk.JDKVaultHttpClient;

/**
 * The Vault adapter against the stand-in over real HTTP, with a real quarkus-vault client: what it
 * reads, and how each way Vault can fail reaches the caller (reliability cases 1, 4, 5, 6, 33, 35).
 */
class VaultCredentialStoreTest {

    private static final String MOUNT = "secret";
    private static final String PATH = "partner-center/sandbox";
    private static final String DATA_PATH = "/v1/secret/data/partner-center/sandbox";
    private static final String LOGIN_PATH = "/v1/auth/kubernetes/login";
    private static final String CLIENT_ID = "00000000-0000-0000-0000-00000000a11d";
    private static final String DOMAIN = "fake-sandbox.onmicrosoft.com";
    private static final Duration TIMEOUT = Duration.ofMillis(500);

    private static final Environment SANDBOX = new Environment("sandbox", Fixtures.SANDBOX.tenant(), Cloud.PUBLIC, PATH,
            Environment.defaultTokenEndpoint(Cloud.PUBLIC), Cloud.PUBLIC.resource());

    private VaultStandIn vault;

    /** Generated per run, so a leak check cannot pass by the secret being spelled differently. */
    private final String secret = "fake-sandbox-secret-" + UUID.randomUUID();
    private VaultCredentialStore store;

    // One stand-in per test: a client of an earlier test may still retry a dropped or delayed request,
    // and that must not land in this test's journal.
    @BeforeEach
    void startVault() {
        vault = VaultStandIn.start();
        store = new VaultCredentialStore(client(vault.rootToken()), MOUNT, TIMEOUT);
    }

    @AfterEach
    void stopVault() {
        vault.close();
    }

    @Test
    void readsTheCurrentVersionWithItsNumberAndCreationTime() {
        Instant written = Instant.parse("2026-11-24T12:00:00.123456789Z");
        vault.close();
        vault = VaultStandIn.start(Clock.fixed(written, ZoneOffset.UTC));
        store = new VaultCredentialStore(client(vault.rootToken()), MOUNT, TIMEOUT);
        vault.put(MOUNT, PATH, credential("fake-sandbox-secret-old"));
        vault.put(MOUNT, PATH, credential(secret));

        PartnerCredential credential = store.read(SANDBOX);

        assertThat(credential.clientId()).isEqualTo(CLIENT_ID);
        assertThat(credential.clientSecret().reveal()).isEqualTo(secret);
        assertThat(credential.domain()).isEqualTo(DOMAIN);
        assertThat(credential.version()).isEqualTo(2);
        assertThat(credential.createdTime()).isEqualTo(written);
        assertThat(vault.count("GET", DATA_PATH)).as("exactly one read").isEqualTo(1);
    }

    @Test
    void readsFromTheConfiguredMount() {
        vault.put("kv-partner", PATH, credential(secret));
        VaultCredentialStore otherMount = new VaultCredentialStore(client(vault.rootToken()), "kv-partner", TIMEOUT);

        assertThat(otherMount.read(SANDBOX).clientSecret().reveal()).isEqualTo(secret);
        assertThat(vault.count("GET", "/v1/kv-partner/data/partner-center/sandbox")).isEqualTo(1);
    }

    @Test
    void acceptsATenantIdAsDomain() {
        vault.put(MOUNT, PATH, Map.of("client_id", CLIENT_ID, "client_secret", secret, "domain",
                "11111111-2222-3333-4444-555555555555"));

        assertThat(store.read(SANDBOX).domain()).isEqualTo("11111111-2222-3333-4444-555555555555");
    }

    @Test
    @DisplayName("404 {\"errors\":[]}: environment not configured, naming environment and path (case 4)")
    void reportsAMissingSecretAsEnvironmentNotConfigured() {
        CredentialStoreException failure = readFails();

        assertThat(failure.reason()).isEqualTo(NOT_FOUND);
        assertThat(failure.environment()).isEqualTo("sandbox");
        assertThat(failure.getMessage()).contains("'sandbox'", "not configured", "secret/data/partner-center/sandbox");
        assertThat(failure.reason().isTransient()).isFalse();
    }

    @Test
    void reportsADeniedReadAsPermissionDenied() {
        vault.put(MOUNT, PATH, credential(secret));
        vault.denyNext(1);

        CredentialStoreException failure = readFails();

        assertThat(failure.reason()).isEqualTo(PERMISSION_DENIED);
        assertThat(failure.getMessage()).contains("403", "permission denied");
    }

    // quarkus-vault 4.7.0's VaultClient would log in again on any 403 of a cached token; the store turns
    // that off and logs in again only on "invalid token" (case 2, failsClosedWhenTheFreshTokenIsRefusedToo).
    @Test
    @DisplayName("case 3: Kubernetes auth, a plain 403 permission denied on a good token: no re-login, no retry")
    void doesNotLogInAgainOnAPolicyRefusal(@TempDir Path dir) throws IOException {
        vault.put(MOUNT, PATH, credential(secret));
        VaultCredentialStore kubernetes = new VaultCredentialStore(kubernetesClient(dir), MOUNT, TIMEOUT);
        kubernetes.read(SANDBOX);
        assertThat(vault.count("POST", LOGIN_PATH)).as("the first read logged in").isEqualTo(1);
        // "permission denied" alone, on every request with a token: the token is good, the policy refuses
        vault.denyNext(VaultStandIn.ALWAYS);

        CredentialStoreException failure = catchThrowableOfType(CredentialStoreException.class,
                () -> kubernetes.read(SANDBOX));

        assertThat(vault.count("POST", LOGIN_PATH)).as("no re-login: " + vault.requests()).isEqualTo(1);
        assertThat(vault.count("GET", DATA_PATH)).as("the good read and the refused one, no retry").isEqualTo(2);
        assertThat(failure.reason()).isEqualTo(PERMISSION_DENIED);
        assertThat(failure.getMessage()).contains("permission denied").doesNotContain("invalid token");
        vault.reset();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("finalStatuses")
    @DisplayName("case 5: 400, 403 and 404 are final: exactly one request in Vault's journal, whatever the budget")
    void neverRetriesAFinalStatus(int status, String error, CredentialStoreException.Reason reason) {
        vault.put(MOUNT, PATH, credential(secret));
        if (error == null) {
            vault.failNext(VaultStandIn.ALWAYS, status); // {"errors":[]}, as Vault answers a missing path
        } else {
            vault.failNext(VaultStandIn.ALWAYS, status, error);
        }
        // a budget ample for three attempts: only the status may stop a retry here
        store = new VaultCredentialStore(client(vault.rootToken()), MOUNT, Duration.ofSeconds(10));

        CredentialStoreException failure = readFails();

        assertThat(failure.reason()).isEqualTo(reason);
        assertThat(failure.reason().isTransient()).isFalse();
        assertThat(vault.requests()).as("one request, no retry").containsExactly(
                new VaultStandIn.Request("GET", DATA_PATH, null));
        vault.reset();
    }

    static Stream<Arguments> finalStatuses() {
        return Stream.of(Arguments.of(400, "unsupported path for this mount", PERMISSION_DENIED),
                Arguments.of(403, "permission denied", PERMISSION_DENIED),
                Arguments.of(404, null, NOT_FOUND));
    }

    @Test
    @DisplayName("a static token Vault no longer knows: permission denied, one request, no loop (cases 2, 3, 5)")
    void reportsAnUnknownTokenAsPermissionDeniedWithoutRetrying() {
        vault.put(MOUNT, PATH, credential(secret));
        VaultCredentialStore withStaleToken = new VaultCredentialStore(client("hvs.expired-or-revoked"), MOUNT,
                TIMEOUT);

        CredentialStoreException failure = catchThrowableOfType(CredentialStoreException.class,
                () -> withStaleToken.read(SANDBOX));

        assertThat(failure.reason()).isEqualTo(PERMISSION_DENIED);
        assertThat(failure.getMessage()).contains("invalid token");
        assertThat(vault.count("GET", DATA_PATH)).isEqualTo(1);
    }

    @Test
    @DisplayName("503 Vault is sealed: unavailable, worth retrying later (case 1)")
    void reportsSealedVaultAsUnavailable() {
        vault.put(MOUNT, PATH, credential(secret));
        vault.seal();

        CredentialStoreException failure = readFails();

        assertThat(failure.reason()).isEqualTo(UNAVAILABLE);
        assertThat(failure.reason().isTransient()).isTrue();
        assertThat(failure.getMessage()).contains("503", "Vault is sealed");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("transientStatuses")
    @DisplayName("5xx (not 501), 412 and 429 are retried twice, then unavailable (case 5)")
    void reportsTransientStatusesAsUnavailable(int status, String error) {
        vault.put(MOUNT, PATH, credential(secret));
        vault.failNext(3, status, error);
        // a budget ample for three attempts on a busy machine: the count is what is looked at here
        store = new VaultCredentialStore(client(vault.rootToken()), MOUNT, Duration.ofSeconds(10));

        CredentialStoreException failure = readFails();

        assertThat(failure.reason()).isEqualTo(UNAVAILABLE);
        assertThat(failure.getMessage()).contains("status " + status);
        assertThat(vault.count("GET", DATA_PATH)).as("one read and two retries").isEqualTo(3);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("transientStatuses")
    @DisplayName("a read that Vault fails once with 5xx (not 501), 412 or 429 succeeds on a jittered retry (case 5)")
    void retriesATransientStatus(int status, String error) {
        vault.put(MOUNT, PATH, credential(secret));
        vault.failNext(1, status, error);
        store = new VaultCredentialStore(client(vault.rootToken()), MOUNT, Duration.ofSeconds(10));

        assertThat(store.read(SANDBOX).clientSecret().reveal()).isEqualTo(secret);
        assertThat(vault.count("GET", DATA_PATH)).isEqualTo(2);
    }

    static Stream<Arguments> transientStatuses() {
        return Stream.of(Arguments.of(500, "internal error"), Arguments.of(502, "bad gateway"),
                Arguments.of(504, "gateway timeout"), Arguments.of(429, "rate limit quota exceeded"),
                Arguments.of(412, "required index state not present"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refusals")
    @DisplayName("400 and 501 are not worth retrying: reported as a refusal (case 5)")
    void reportsRequestsVaultRefusesAsNotRetryable(int status, String error) {
        vault.put(MOUNT, PATH, credential(secret));
        vault.failNext(1, status, error);

        CredentialStoreException failure = readFails();

        assertThat(failure.reason()).isEqualTo(PERMISSION_DENIED);
        assertThat(failure.reason().isTransient()).isFalse();
        assertThat(failure.getMessage()).contains("status " + status).doesNotContain(error);
        assertThat(vault.count("GET", DATA_PATH)).as("not retried").isEqualTo(1);
    }

    static Stream<Arguments> refusals() {
        return Stream.of(Arguments.of(400, "unsupported path for this mount"),
                Arguments.of(501, "Vault is not initialized here"));
    }

    @Test
    @DisplayName("a 30 s-delayed reply: unavailable within the timeout (case 6)")
    void reportsASlowVaultAsUnavailableWithinTheTimeout() {
        vault.put(MOUNT, PATH, credential(secret));
        vault.delayNext(1, Duration.ofSeconds(30));
        long started = System.nanoTime();

        CredentialStoreException failure = readFails();

        Duration took = Duration.ofNanos(System.nanoTime() - started);
        assertThat(failure.reason()).isEqualTo(UNAVAILABLE);
        assertThat(failure.getMessage()).contains("did not answer", TIMEOUT.toString());
        assertThat(took).isGreaterThanOrEqualTo(TIMEOUT).isLessThan(TIMEOUT.plusSeconds(2));
    }

    @Test
    @DisplayName("a reset connection: unavailable (case 6)")
    void reportsADroppedConnectionAsUnavailable() {
        vault.put(MOUNT, PATH, credential(secret));
        vault.dropConnectionNext(VaultStandIn.ALWAYS);

        CredentialStoreException failure = readFails();

        assertThat(failure.reason()).isEqualTo(UNAVAILABLE);
        assertThat(failure.getMessage()).contains("could not reach Vault");
    }

    @Test
    @DisplayName("nothing listening: unavailable (case 6)")
    void reportsAnUnreachableVaultAsUnavailable() throws IOException {
        int unusedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            unusedPort = socket.getLocalPort();
        }
        VaultClient nowhere = VaultClient.builder().baseUrl("http://127.0.0.1:" + unusedPort)
                .executor(new JDKVaultHttpClient(HttpClient.newHttpClient())).clientToken(vault.rootToken()).build();

        CredentialStoreException failure = catchThrowableOfType(CredentialStoreException.class,
                () -> new VaultCredentialStore(nowhere, MOUNT, TIMEOUT).read(SANDBOX));

        assertThat(failure.reason()).isEqualTo(UNAVAILABLE);
    }

    @Test
    @DisplayName("malformed JSON carrying the secret: unavailable, and the parser's excerpt stays out (cases 6, 33)")
    void reportsMalformedJsonAsUnavailable() {
        vault.put(MOUNT, PATH, credential(secret));
        vault.malformedJsonNext(1);

        CredentialStoreException failure = readFails();

        assertThat(failure.reason()).isEqualTo(UNAVAILABLE);
        assertThat(failure.getMessage()).contains("could not be parsed");
        assertThat(failure.getCause()).isNull();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("unusableContents")
    @DisplayName("missing, empty, non-string or implausible fields: invalid content, never an empty secret (case 4)")
    void reportsUnusableContentAsInvalid(String why, Map<String, Object> data, String expected) {
        vault.put(MOUNT, PATH, data);

        CredentialStoreException failure = readFails();

        assertThat(failure.reason()).isEqualTo(INVALID_CONTENT);
        assertThat(failure.getMessage()).contains(expected, "'sandbox'");
    }

    static Stream<Arguments> unusableContents() {
        return Stream.of(
                Arguments.of("no fields", Map.of(), "holds no data"),
                Arguments.of("no secret", without("client_secret"), "'client_secret' of version 1 is missing"),
                Arguments.of("empty secret", with("client_secret", ""), "'client_secret' of version 1 is empty"),
                Arguments.of("blank secret", with("client_secret", "  "), "'client_secret' of version 1 is empty"),
                Arguments.of("numeric secret", with("client_secret", 12345),
                        "'client_secret' of version 1 is not a string"),
                Arguments.of("no client id", without("client_id"), "'client_id' of version 1 is missing"),
                Arguments.of("blank client id", with("client_id", " "), "'client_id' of version 1 is empty"),
                Arguments.of("no domain", without("domain"), "'domain' of version 1 is missing"),
                Arguments.of("domain with a path", with("domain", "contoso.com/../evil"),
                        "'domain' of version 1 is neither"),
                Arguments.of("domain with a space", with("domain", "contoso .com"), "'domain' of version 1 is neither"),
                Arguments.of("single-label domain", with("domain", "contoso"), "'domain' of version 1 is neither"),
                Arguments.of("domain as object", with("domain", Map.of("name", "contoso.com")),
                        "'domain' of version 1 is not a string"));
    }

    @Test
    void reportsADeletedCurrentVersionAsInvalidContent() {
        vault.put(MOUNT, PATH, credential(secret));
        vault.deleteVersions(MOUNT, PATH, 1);

        CredentialStoreException failure = readFails();

        assertThat(failure.reason()).isEqualTo(INVALID_CONTENT);
        assertThat(failure.getMessage()).contains("version 1 is deleted");
    }

    @Test
    void reportsADestroyedCurrentVersionAsInvalidContent() {
        vault.put(MOUNT, PATH, credential(secret));
        vault.destroyVersions(MOUNT, PATH, 1);

        CredentialStoreException failure = readFails();

        assertThat(failure.reason()).isEqualTo(INVALID_CONTENT);
        assertThat(failure.getMessage()).contains("version 1 is destroyed");
    }

    // ---- versions, metadata and check-and-set writes (rotation) ---------------------------------

    @Test
    void readsAGivenVersionThatIsNoLongerCurrent() {
        vault.put(MOUNT, PATH, credential("fake-sandbox-secret-old"));
        vault.put(MOUNT, PATH, credential(secret));

        PartnerCredential old = store.read(SANDBOX, 1);

        assertThat(old.version()).isEqualTo(1);
        assertThat(old.clientSecret().reveal()).isEqualTo("fake-sandbox-secret-old");
        assertThat(vault.requests()).extracting(Object::toString).containsExactly("GET " + DATA_PATH + "?version=1");
    }

    @Test
    void reportsAVersionThatDoesNotExistAsNotFoundNamingIt() {
        vault.put(MOUNT, PATH, credential(secret));

        CredentialStoreException failure = catchThrowableOfType(CredentialStoreException.class,
                () -> store.read(SANDBOX, 7));

        assertThat(failure.reason()).isEqualTo(NOT_FOUND);
        assertThat(failure.getMessage()).contains("no version 7");
    }

    @Test
    void reportsADeletedOldVersionAsInvalidContent() {
        vault.put(MOUNT, PATH, credential("fake-sandbox-secret-old"));
        vault.put(MOUNT, PATH, credential(secret));
        vault.deleteVersions(MOUNT, PATH, 1);

        CredentialStoreException failure = catchThrowableOfType(CredentialStoreException.class,
                () -> store.read(SANDBOX, 1));

        assertThat(failure.reason()).isEqualTo(INVALID_CONTENT);
        assertThat(failure.getMessage()).contains("version 1 is deleted").doesNotContain("current");
    }

    @Test
    @DisplayName("metadata: current_version and the kept versions, deleted and destroyed ones marked, without reading any secret")
    void readsMetadataWithoutTheSecret() {
        for (int i = 1; i <= 4; i++) {
            vault.put(MOUNT, PATH, credential("fake-sandbox-secret-" + i));
        }
        vault.deleteVersions(MOUNT, PATH, 2);
        vault.destroyVersions(MOUNT, PATH, 3);

        CredentialMetadata metadata = store.metadata(SANDBOX);

        assertThat(metadata.currentVersion()).isEqualTo(4);
        assertThat(metadata.versions()).extracting(VersionMetadata::version).containsExactly(4, 3, 2, 1);
        assertThat(metadata.versions()).extracting(VersionMetadata::isLive).containsExactly(true, false, false, true);
        assertThat(metadata.versions().get(0).createdTime()).isNotNull();
        assertThat(vault.requests()).extracting(Object::toString)
                .containsExactly("GET /v1/secret/metadata/partner-center/sandbox");
    }

    @Test
    void reportsMissingMetadataAsNotFound() {
        CredentialStoreException failure = catchThrowableOfType(CredentialStoreException.class,
                () -> store.metadata(SANDBOX));

        assertThat(failure.reason()).isEqualTo(NOT_FOUND);
    }

    @Test
    @DisplayName("a write carries options.cas and returns the new version from Vault's raw answer (the 4.7.0 updateSecret defect)")
    void writesWithCheckAndSetAndReturnsTheNewVersion() {
        vault.put(MOUNT, PATH, credential("fake-sandbox-secret-old"));
        PartnerCredential candidate = PartnerCredential.candidate(CLIENT_ID, new ClientSecret(secret), DOMAIN);

        PartnerCredential stored = store.write(SANDBOX, candidate, 1);

        assertThat(stored.version()).isEqualTo(2);
        assertThat(stored.createdTime()).isNotNull();
        assertThat(stored.sameKeyAs(candidate)).isTrue();
        assertThat(vault.currentVersion(MOUNT, PATH)).hasValue(2);
        assertThat(vault.data(MOUNT, PATH, 2)).hasValue(credential(secret));
        assertThat(vault.count("POST", DATA_PATH)).isEqualTo(1);
    }

    @Test
    @DisplayName("a stale check-and-set is a version conflict and writes nothing (case 23)")
    void reportsAStaleCheckAndSetAsAConflict() {
        vault.put(MOUNT, PATH, credential("fake-sandbox-secret-1"));
        vault.put(MOUNT, PATH, credential("fake-sandbox-secret-2"));

        CredentialVersionConflictException conflict = catchThrowableOfType(CredentialVersionConflictException.class,
                () -> store.write(SANDBOX, PartnerCredential.candidate(CLIENT_ID, new ClientSecret(secret), DOMAIN),
                        1));

        assertThat(conflict.expectedVersion()).isEqualTo(1);
        assertThat(conflict.getMessage()).contains("'sandbox'").doesNotContain(secret);
        assertThat(vault.currentVersion(MOUNT, PATH)).hasValue(2);
    }

    @Test
    @DisplayName("a mount with cas_required accepts the broker's writes (case 8)")
    void writesToAMountThatRequiresCheckAndSet() {
        vault.configureMount(MOUNT, 0, true);
        vault.put(MOUNT, PATH, credential("fake-sandbox-secret-old"));

        PartnerCredential stored = store.write(SANDBOX,
                PartnerCredential.candidate(CLIENT_ID, new ClientSecret(secret), DOMAIN), 1);

        assertThat(stored.version()).isEqualTo(2);
        assertThat(vault.data(MOUNT, PATH, 2)).hasValue(credential(secret));
    }

    @Test
    @DisplayName("a sealed Vault: the write is unavailable and nothing is written (case 1)")
    void reportsASealedVaultOnWriteAsUnavailable() {
        vault.put(MOUNT, PATH, credential("fake-sandbox-secret-old"));
        vault.seal();

        CredentialStoreException failure = catchThrowableOfType(CredentialStoreException.class,
                () -> store.write(SANDBOX, PartnerCredential.candidate(CLIENT_ID, new ClientSecret(secret), DOMAIN),
                        1));

        assertThat(failure.reason()).isEqualTo(UNAVAILABLE);
        assertThat(failure.getMessage()).contains("write").doesNotContain(secret);
        vault.unseal();
        assertThat(vault.currentVersion(MOUNT, PATH)).hasValue(1);
    }

    @Test
    void reportsADeniedWriteAsPermissionDenied() {
        vault.put(MOUNT, PATH, credential("fake-sandbox-secret-old"));
        vault.denyNext(1);

        CredentialStoreException failure = catchThrowableOfType(CredentialStoreException.class,
                () -> store.write(SANDBOX, PartnerCredential.candidate(CLIENT_ID, new ClientSecret(secret), DOMAIN),
                        1));

        assertThat(failure.reason()).isEqualTo(PERMISSION_DENIED);
        assertThat(vault.currentVersion(MOUNT, PATH)).hasValue(1);
    }

    @Test
    @DisplayName("quarkus-vault 4.7.0's updateSecret loses the new version: why the adapter builds its write by hand")
    void quarkusVaultUpdateSecretLosesTheNewVersion() throws Exception {
        vault.put(MOUNT, PATH, credential("fake-sandbox-secret-old"));

        var answer = client(vault.rootToken()).secrets().kv2(MOUNT)
                .updateSecret(PATH, new VaultSecretsKV2UpdateSecretOptions().setCas(1), Map.of("client_id", CLIENT_ID,
                        "client_secret", secret, "domain", DOMAIN))
                .toCompletableFuture().get();

        assertThat(vault.currentVersion(MOUNT, PATH)).hasValue(2);
        assertThat(answer == null || answer.getMetadata() == null || answer.getMetadata().getVersion() == null)
                .as("if this fails, quarkus-vault returns the version now and VaultWrite can use updateSecret")
                .isTrue();
    }

    @Test
    @DisplayName("at TRACE, quarkus-vault logs no secret writing, nor when the write fails (cases 33, 35)")
    void quarkusVaultLogsNoSecretAtTraceWhenWriting() {
        try (CapturedLogs logs = CapturedLogs.everything("io.quarkus.vault")) {
            vault.put(MOUNT, PATH, credential("fake-sandbox-secret-old"));
            PartnerCredential candidate = PartnerCredential.candidate(CLIENT_ID, new ClientSecret(secret), DOMAIN);
            store.write(SANDBOX, candidate, 1);
            catchThrowableOfType(CredentialVersionConflictException.class, () -> store.write(SANDBOX, candidate, 1));
            vault.failNext(1, 500, "internal error");
            catchThrowableOfType(CredentialStoreException.class, () -> store.write(SANDBOX, candidate, 2));

            assertThat(logs.text()).doesNotContain(secret, vault.rootToken());
        }
    }

    @Test
    @DisplayName("Kubernetes auth: a revoked Vault token costs one re-login and one retry (case 2)")
    void logsInAgainOnceWhenTheVaultTokenWasRevoked(@TempDir Path dir) throws IOException {
        vault.put(MOUNT, PATH, credential(secret));
        VaultCredentialStore kubernetes = new VaultCredentialStore(kubernetesClient(dir), MOUNT, TIMEOUT);
        kubernetes.read(SANDBOX);

        vault.revokeIssuedTokens();
        PartnerCredential credential = kubernetes.read(SANDBOX);

        assertThat(credential.clientSecret().reveal()).isEqualTo(secret);
        assertThat(vault.count("POST", "/v1/auth/kubernetes/login")).isEqualTo(2);
        assertThat(vault.count("GET", DATA_PATH)).isEqualTo(3);
    }

    @Test
    @DisplayName("Kubernetes auth: a missing service-account token file is a typed failure, not a crash (case 9)")
    void reportsAMissingServiceAccountTokenFile(@TempDir Path dir) throws IOException {
        vault.put(MOUNT, PATH, credential(secret));
        VaultClient client = kubernetesClient(dir);
        Files.delete(dir.resolve("token"));

        CredentialStoreException failure = catchThrowableOfType(CredentialStoreException.class,
                () -> new VaultCredentialStore(client, MOUNT, TIMEOUT).read(SANDBOX));

        assertThat(failure).isNotNull();
        assertThat(failure.reason()).isEqualTo(UNAVAILABLE);
    }

    @Test
    @DisplayName("Kubernetes auth: Vault unreachable is a typed failure, not a crash (case 6)")
    void reportsAnUnreachableVaultWithKubernetesAuth(@TempDir Path dir) throws IOException {
        VaultClient client = kubernetesClient(dir).configure().baseUrl("http://127.0.0.1:9").build();

        CredentialStoreException failure = catchThrowableOfType(CredentialStoreException.class,
                () -> new VaultCredentialStore(client, MOUNT, TIMEOUT).read(SANDBOX));

        assertThat(failure).isNotNull();
        assertThat(failure.reason()).isEqualTo(UNAVAILABLE);
    }

    @Test
    @DisplayName("Kubernetes auth: a second invalid token fails closed, no loop (case 2)")
    void failsClosedWhenTheFreshTokenIsRefusedToo(@TempDir Path dir) throws IOException {
        vault.put(MOUNT, PATH, credential(secret));
        VaultCredentialStore kubernetes = new VaultCredentialStore(kubernetesClient(dir), MOUNT, TIMEOUT);
        kubernetes.read(SANDBOX);
        vault.rejectTokenNext(VaultStandIn.ALWAYS);

        CredentialStoreException failure = catchThrowableOfType(CredentialStoreException.class,
                () -> kubernetes.read(SANDBOX));

        assertThat(failure.reason()).isEqualTo(PERMISSION_DENIED);
        assertThat(vault.count("POST", "/v1/auth/kubernetes/login")).isEqualTo(2);
        assertThat(vault.count("GET", DATA_PATH)).as(vault.requests().toString()).isEqualTo(3);
    }

    @Test
    @DisplayName("Kubernetes auth: failing logins back off from 1 s, doubling up to 5 min; a good login ends it (case 7)")
    void backsOffFailingLogins(@TempDir Path dir) throws IOException {
        vault.put(MOUNT, PATH, credential(secret));
        VaultClient client = kubernetesClient(dir);
        // the role no longer accepts this pod's service account: every login answers 403
        vault.acceptKubernetesLogin("credential-broker", "fake-another-service-account-jwt");
        TestClock clock = new TestClock();
        clock.freeze();
        VaultCredentialStore kubernetes = new VaultCredentialStore(client, MOUNT, TIMEOUT, CredentialObserver.NONE,
                new LoginBackoff(clock, () -> 1.0)); // no jitter: each pause is its nominal length

        for (long seconds : new long[]{1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300}) {
            long logins = vault.count("POST", LOGIN_PATH);
            assertThat(catchThrowableOfType(CredentialStoreException.class, () -> kubernetes.read(SANDBOX)).reason())
                    .isEqualTo(PERMISSION_DENIED);
            assertThat(vault.count("POST", LOGIN_PATH)).as("one login attempt").isEqualTo(logins + 1);

            clock.advance(Duration.ofSeconds(seconds).minusMillis(1));
            CredentialStoreException paused = catchThrowableOfType(CredentialStoreException.class,
                    () -> kubernetes.read(SANDBOX));
            assertThat(paused.reason()).as("the last login's reason, while paused").isEqualTo(PERMISSION_DENIED);
            assertThat(paused.getMessage()).contains("Vault login failed").contains("tries again in");
            assertThat(vault.count("POST", LOGIN_PATH)).as("no login during a %d s pause", seconds)
                    .isEqualTo(logins + 1);
            clock.advance(Duration.ofMillis(1));
        }
        assertThat(vault.count("GET", DATA_PATH)).as("no read without a token").isZero();

        // the role accepts the pod again: the next login works, and a later failure starts over at 1 s
        vault.acceptKubernetesLogin("credential-broker", Files.readString(dir.resolve("token")));
        assertThat(kubernetes.read(SANDBOX).clientSecret().reveal()).isEqualTo(secret);
        vault.acceptKubernetesLogin("credential-broker", "fake-another-service-account-jwt");
        vault.revokeIssuedTokens();
        assertThat(catchThrowableOfType(CredentialStoreException.class, () -> kubernetes.read(SANDBOX)).reason())
                .isEqualTo(PERMISSION_DENIED);
        long logins = vault.count("POST", LOGIN_PATH);
        clock.advance(Duration.ofMillis(999));
        catchThrowableOfType(CredentialStoreException.class, () -> kubernetes.read(SANDBOX));
        assertThat(vault.count("POST", LOGIN_PATH)).isEqualTo(logins);
        clock.advance(Duration.ofMillis(1));
        catchThrowableOfType(CredentialStoreException.class, () -> kubernetes.read(SANDBOX));
        assertThat(vault.count("POST", LOGIN_PATH)).as("after 1 s, one more attempt").isEqualTo(logins + 1);
    }

    @Test
    @DisplayName("a login Vault never answers counts as a failed login: the next calls are paced, not a fresh login each (case 7)")
    void pacesCallsAfterALoginThatTimedOut(@TempDir Path dir) throws IOException {
        vault.put(MOUNT, PATH, credential(secret));
        VaultClient client = kubernetesClient(dir);
        vault.delayNext(VaultStandIn.ALWAYS, Duration.ofSeconds(30)); // black-holed: nothing is answered
        TestClock clock = new TestClock();
        clock.freeze();
        VaultCredentialStore kubernetes = new VaultCredentialStore(client, MOUNT, TIMEOUT, CredentialObserver.NONE,
                new LoginBackoff(clock, () -> 1.0));

        assertThat(catchThrowableOfType(CredentialStoreException.class, () -> kubernetes.read(SANDBOX)).reason())
                .isEqualTo(UNAVAILABLE);
        assertThat(vault.count("POST", LOGIN_PATH)).as("the login that was never answered").isEqualTo(1);

        CredentialStoreException paused = catchThrowableOfType(CredentialStoreException.class,
                () -> kubernetes.read(SANDBOX));
        assertThat(paused.reason()).isEqualTo(UNAVAILABLE);
        assertThat(paused.getMessage()).contains("did not answer").contains("tries again in");
        assertThat(vault.count("POST", LOGIN_PATH)).as("no fresh login during the pause").isEqualTo(1);

        clock.advance(Duration.ofSeconds(1));
        catchThrowableOfType(CredentialStoreException.class, () -> kubernetes.read(SANDBOX));
        assertThat(vault.count("POST", LOGIN_PATH)).as("after 1 s, one more attempt").isEqualTo(2);
        vault.reset(); // ends the delays
    }

    @Test
    @DisplayName("broker.vault.timeout bounds the whole read: no retry starts without time left to finish it")
    void boundsTheWholeReadRetriesIncluded() {
        vault.put(MOUNT, PATH, credential(secret));
        // each answer takes 400 ms of the 500 ms budget: there is no time for a retry (before, each of the
        // three attempts had 500 ms of its own)
        vault.delayNext(VaultStandIn.ALWAYS, Duration.ofMillis(400));
        vault.failNext(VaultStandIn.ALWAYS, 503, "internal error");
        long started = System.nanoTime();

        CredentialStoreException failure = readFails();

        assertThat(failure.reason()).isEqualTo(UNAVAILABLE);
        assertThat(vault.count("GET", DATA_PATH)).as("one attempt, no retry past the budget").isEqualTo(1);
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(TIMEOUT.plusSeconds(2));
        vault.reset();
    }

    @Test
    @DisplayName("failing logins pause for a jittered time: between half and all of the nominal pause (case 7)")
    void jittersTheLoginPause(@TempDir Path dir) throws IOException {
        VaultClient client = kubernetesClient(dir);
        vault.acceptKubernetesLogin("credential-broker", "fake-another-service-account-jwt");
        TestClock clock = new TestClock();
        clock.freeze();
        VaultCredentialStore kubernetes = new VaultCredentialStore(client, MOUNT, TIMEOUT, CredentialObserver.NONE,
                new LoginBackoff(clock, () -> 0.0)); // the shortest pause jitter allows: half

        catchThrowableOfType(CredentialStoreException.class, () -> kubernetes.read(SANDBOX));
        clock.advance(Duration.ofMillis(499));
        catchThrowableOfType(CredentialStoreException.class, () -> kubernetes.read(SANDBOX));
        assertThat(vault.count("POST", LOGIN_PATH)).isEqualTo(1);
        clock.advance(Duration.ofMillis(1));
        catchThrowableOfType(CredentialStoreException.class, () -> kubernetes.read(SANDBOX));
        assertThat(vault.count("POST", LOGIN_PATH)).isEqualTo(2);
    }

    @Test
    @DisplayName("a refused read after a good login is no login failure: no pause (cases 2, 7)")
    void pausesOnlyForFailedLogins(@TempDir Path dir) throws IOException {
        vault.put(MOUNT, PATH, credential(secret));
        TestClock clock = new TestClock();
        clock.freeze();
        VaultCredentialStore kubernetes = new VaultCredentialStore(kubernetesClient(dir), MOUNT, TIMEOUT,
                CredentialObserver.NONE, new LoginBackoff(clock, () -> 1.0));
        vault.denyNext(1);

        assertThat(catchThrowableOfType(CredentialStoreException.class, () -> kubernetes.read(SANDBOX)).reason())
                .isEqualTo(PERMISSION_DENIED);
        assertThat(kubernetes.read(SANDBOX).clientSecret().reveal()).as("at once, the same instant")
                .isEqualTo(secret);
    }

    @Test
    @DisplayName("no failure's message, toString or stack trace holds the secret or the Vault token (cases 33, 35)")
    void neverPutsTheSecretOrTokenIntoAFailure() {
        List<Consumer<VaultStandIn>> faults = List.of(
                VaultStandIn::seal,
                standIn -> standIn.denyNext(1),
                standIn -> standIn.rejectTokenNext(1),
                standIn -> standIn.failNext(3, 500, "internal error: " + secret),
                standIn -> standIn.failNext(1, 400, secret),
                standIn -> standIn.failNext(1, 404, secret),
                standIn -> standIn.malformedJsonNext(1),
                standIn -> standIn.dropConnectionNext(VaultStandIn.ALWAYS),
                standIn -> standIn.delayNext(1, Duration.ofSeconds(30)),
                standIn -> standIn.deleteVersions(MOUNT, PATH, 1),
                standIn -> standIn.put(MOUNT, PATH,
                        Map.of("client_id", CLIENT_ID, "client_secret", secret, "domain", secret)),
                standIn -> standIn.put(MOUNT, PATH,
                        Map.of("client_id", secret + " ", "client_secret", " ", "domain", DOMAIN)));
        for (Consumer<VaultStandIn> fault : faults) {
            // A fresh Vault for each: the dropped and delayed reads may still be retried by the client.
            vault.close();
            vault = VaultStandIn.start();
            store = new VaultCredentialStore(client(vault.rootToken()), MOUNT, TIMEOUT);
            vault.put(MOUNT, PATH, credential(secret));
            fault.accept(vault);

            CredentialStoreException failure = readFails();

            StringWriter trace = new StringWriter();
            failure.printStackTrace(new PrintWriter(trace));
            assertThat(failure + "\n" + trace).as(failure.reason().toString())
                    .doesNotContain(secret, vault.rootToken());
            assertThat(failure.getCause()).isNull();
        }
    }

    @Test
    @DisplayName("at TRACE, quarkus-vault logs neither secret nor token reading, even a body that holds the secret (case 33)")
    void quarkusVaultLogsNoSecretAtTraceWhenReading() {
        try (CapturedLogs logs = CapturedLogs.everything("io.quarkus.vault")) {
            vault.put(MOUNT, PATH, credential(secret));
            store.read(SANDBOX);
            vault.malformedJsonNext(1);
            readFails();
            vault.denyNext(1);
            readFails();
            vault.seal();
            readFails();

            assertThat(logs.text()).doesNotContain(secret, vault.rootToken());
        }
    }

    @Test
    @DisplayName("quarkus-vault prints Vault's error text verbatim at TRACE: why VaultClient's category is pinned (case 33)")
    void quarkusVaultPrintsVaultsErrorTextAtTrace() {
        String marker = "upstream-text-" + UUID.randomUUID();
        vault.put(MOUNT, PATH, credential(secret));
        vault.failNext(3, 502, marker);

        try (CapturedLogs logs = CapturedLogs.everything("io.quarkus.vault.client.VaultClient")) {
            readFails();

            assertThat(logs.text()).as("if this fails, quarkus-vault stopped printing error text").contains(marker);
        }
    }

    @Test
    @DisplayName("quarkus-vault prints a refused login token in full at DEBUG: why its category is pinned (case 33)")
    void quarkusVaultPrintsARefusedLoginTokenAtDebug(@TempDir Path dir) throws IOException {
        // A lease shorter than the renew grace period makes every read renew first.
        vault.kubernetesTokenTtl(Duration.ofSeconds(5));
        VaultCredentialStore kubernetes = new VaultCredentialStore(kubernetesClient(dir), MOUNT, TIMEOUT);
        vault.put(MOUNT, PATH, credential(secret));
        kubernetes.read(SANDBOX);

        try (CapturedLogs logs = CapturedLogs.everything("io.quarkus.vault.client.auth.VaultCachingTokenProvider")) {
            vault.rejectTokenNext(1);
            kubernetes.read(SANDBOX);

            assertThat(logs.text()).as("if this fails, quarkus-vault stopped printing the token").contains("hvs.");
        }
    }

    @Test
    @DisplayName("application.properties pins the categories that print tokens or Vault's text (case 33)")
    void pinsQuarkusVaultLogCategories() {
        assertThat(pinnedLogSettings())
                .containsEntry("quarkus.log.category.\"io.quarkus.vault.client.auth.VaultCachingTokenProvider\".level",
                        "INFO")
                .containsEntry("quarkus.log.category.\"io.quarkus.vault.client.VaultClient\".level", "INFO")
                .containsEntry("quarkus.log.category.\"io.quarkus.vault.client.common.VaultTracingExecutor\".level",
                        "OFF")
                .containsEntry("quarkus.vault.log-confidentiality-level", "high");
    }

    @Test
    void describesItselfWithoutSecrets() {
        assertThat(store.toString()).contains("mount=secret").doesNotContain(vault.rootToken());
    }

    // ---- helpers -------------------------------------------------------------------------------

    private CredentialStoreException readFails() {
        CredentialStoreException failure = catchThrowableOfType(CredentialStoreException.class,
                () -> store.read(SANDBOX));
        assertThat(failure).as("read should have failed").isNotNull();
        return failure;
    }

    private VaultClient client(String token) {
        return VaultClient.builder()
                .baseUrl(vault.url())
                .executor(new JDKVaultHttpClient(HttpClient.newBuilder()
                        .version(HttpClient.Version.HTTP_1_1)
                        .connectTimeout(Duration.ofSeconds(1))
                        .build()))
                .clientToken(token)
                .requestTimeout(Duration.ofSeconds(5))
                .build();
    }

    private VaultClient kubernetesClient(Path dir) throws IOException {
        String jwt = "fake-service-account-jwt-" + UUID.randomUUID();
        Path jwtFile = Files.writeString(dir.resolve("token"), jwt);
        vault.acceptKubernetesLogin("credential-broker", jwt);
        return VaultClient.builder()
                .baseUrl(vault.url())
                .executor(new JDKVaultHttpClient(HttpClient.newBuilder()
                        .version(HttpClient.Version.HTTP_1_1)
                        .connectTimeout(Duration.ofSeconds(1))
                        .build()))
                .kubernetes(VaultKubernetesAuthOptions.builder()
                        .role("credential-broker")
                        .jwtTokenPath(jwtFile)
                        .caching(Duration.ofSeconds(30))
                        .build())
                .requestTimeout(Duration.ofSeconds(5))
                .build();
    }

    private static Map<String, Object> credential(String clientSecret) {
        // (a Map<String, Object>, so that it compares equal to what the stand-in gives back)
        return Map.of("client_id", CLIENT_ID, "client_secret", clientSecret, "domain", DOMAIN);
    }

    private static Map<String, Object> with(String field, Object value) {
        Map<String, Object> data = new HashMap<>(credential("fake-sandbox-secret"));
        data.put(field, value);
        return data;
    }

    private static Map<String, Object> without(String field) {
        Map<String, Object> data = new HashMap<>(credential("fake-sandbox-secret"));
        data.remove(field);
        return data;
    }

    private static Map<String, String> pinnedLogSettings() {
        Properties properties = new Properties();
        try (InputStream in = VaultCredentialStoreTest.class.getResourceAsStream("/application.properties")) {
            properties.load(in);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        Map<String, String> settings = new HashMap<>();
        properties.stringPropertyNames().forEach(name -> settings.put(name, properties.getProperty(name)));
        return settings;
    }
}
