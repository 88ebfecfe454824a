package io.credentialbroker.credential.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.net.http.HttpClient;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.credentialbroker.credential.CredentialStoreException;
import io.credentialbroker.credential.CredentialVersionConflictException;
import io.credentialbroker.credential.StoredRecord;
import io.credentialbroker.environment.Cloud;
import io.credentialbroker.environment.Environment;
import io.credentialbroker.testing.Fixtures;
import io.credentialbroker.testing.VaultStandIn;
import io.quarkus.vault.client.VaultClient;
import io.quarkus.vault.client.http.jdk.JDKVaultHttpClient;

/**
 * Records beside an environment's credential, through the Vault adapter against the stand-in over
 * real HTTP: their own versions, check-and-set on each write, and a deleted version that a writer
 * can still write over.
 */
class VaultEnvironmentRecordsTest {

    private static final String MOUNT = "secret";
    private static final String PATH = "partner-center/sandbox";
    private static final Environment SANDBOX = new Environment("sandbox", Fixtures.SANDBOX.tenant(), Cloud.PUBLIC, PATH,
            Environment.defaultTokenEndpoint(Cloud.PUBLIC), Cloud.PUBLIC.resource());

    private final String value = "fake-refresh-token-" + UUID.randomUUID();
    private VaultStandIn vault;
    private VaultCredentialStore store;

    @BeforeEach
    void startVault() {
        vault = VaultStandIn.start();
        store = new VaultCredentialStore(VaultClient.builder()
                .baseUrl(vault.url())
                .executor(new JDKVaultHttpClient(HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()))
                .clientToken(vault.rootToken())
                .requestTimeout(Duration.ofSeconds(5))
                .build(), MOUNT, Duration.ofSeconds(2));
    }

    @AfterEach
    void stopVault() {
        vault.close();
    }

    @Test
    void aRecordNeverWrittenIsAbsent() {
        assertThat(store.readRecord(SANDBOX, "app-user")).isEmpty();
    }

    @Test
    void writesCreateVersionsOfTheirOwnBesideTheCredential() {
        vault.put(MOUNT, PATH,
                Map.of("client_id", "id", "client_secret", "fake-sandbox-secret", "domain", "d.example"));
        vault.put(MOUNT, PATH, Map.of("client_id", "id", "client_secret", "fake-sandbox-secret-2", "domain",
                "d.example"));

        StoredRecord first = store.writeRecord(SANDBOX, "app-user", Map.of("refresh_token", value, "upn", "a@b"), 0);
        StoredRecord second = store.writeRecord(SANDBOX, "app-user", Map.of("refresh_token", value + "-2"), 1);

        assertThat(first.version()).isEqualTo(1);
        assertThat(second.version()).isEqualTo(2);
        assertThat(vault.currentVersion(MOUNT, PATH)).hasValue(2);
        assertThat(vault.data(MOUNT, PATH + "/app-user", 2)).hasValue(Map.of("refresh_token", value + "-2"));
        StoredRecord read = store.readRecord(SANDBOX, "app-user").orElseThrow();
        assertThat(read.version()).isEqualTo(2);
        assertThat(read.fields()).containsEntry("refresh_token", value + "-2");
        assertThat(read.createdTime()).isNotNull();
        assertThat(read.toString()).doesNotContain(value);
    }

    @Test
    void aWriteFromAnOlderVersionLosesAndWritesNothing() {
        store.writeRecord(SANDBOX, "app-user", Map.of("refresh_token", value), 0);
        store.writeRecord(SANDBOX, "app-user", Map.of("refresh_token", value + "-winner"), 1);

        CredentialVersionConflictException lost = catchThrowableOfType(
                () -> store.writeRecord(SANDBOX, "app-user", Map.of("refresh_token", value + "-loser"), 1),
                CredentialVersionConflictException.class);

        assertThat(lost.getMessage()).contains("the record app-user").doesNotContain(value);
        assertThat(vault.currentVersion(MOUNT, PATH + "/app-user")).hasValue(2);
        assertThatThrownBy(() -> store.writeRecord(SANDBOX, "app-user", Map.of("refresh_token", value), 0))
                .isInstanceOf(CredentialVersionConflictException.class);
    }

    @Test
    void aDeletedCurrentVersionIsReadAsEmptyWithItsVersion() {
        store.writeRecord(SANDBOX, "app-user", Map.of("refresh_token", value), 0);
        vault.deleteVersions(MOUNT, PATH + "/app-user", 1);

        StoredRecord deleted = store.readRecord(SANDBOX, "app-user").orElseThrow();

        assertThat(deleted.version()).isEqualTo(1);
        assertThat(deleted.isEmpty()).isTrue();
        assertThat(store.writeRecord(SANDBOX, "app-user", Map.of("refresh_token", value), 1).version()).isEqualTo(2);
    }

    @Test
    void aValueThatIsNotAStringIsRefusedWithoutBeingRepeated() {
        vault.put(MOUNT, PATH + "/app-user", Map.of("refresh_token", Map.of("nested", value)));

        CredentialStoreException refused = catchThrowableOfType(() -> store.readRecord(SANDBOX, "app-user"),
                CredentialStoreException.class);

        assertThat(refused.reason()).isEqualTo(CredentialStoreException.Reason.INVALID_CONTENT);
        assertThat(refused.getMessage()).contains("refresh_token").doesNotContain(value);
    }

    @Test
    void aDeniedReadIsAFailureNotAnAbsence() {
        vault.denyNext(1);

        assertThatThrownBy(() -> store.readRecord(SANDBOX, "app-user")).isInstanceOf(CredentialStoreException.class)
                .extracting(e -> ((CredentialStoreException) e).reason())
                .isEqualTo(CredentialStoreException.Reason.PERMISSION_DENIED);
    }

    @Test
    void namesThatCouldLeaveTheEnvironmentsPathAreRefused() {
        for (String name : new String[]{"../primary", "/app-user", "App-User", "", "a//b", "a/"}) {
            assertThatThrownBy(() -> store.readRecord(SANDBOX, name)).as(name)
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }
}
