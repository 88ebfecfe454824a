package io.credentialbroker.rotation;

import static io.credentialbroker.testing.AzureAdStandIn.error;
import static io.credentialbroker.testing.AzureAdStandIn.issued;
import static io.credentialbroker.testing.AzureAdStandIn.newToken;
import static io.credentialbroker.testing.AzureAdStandIn.tokenRequest;
import static io.credentialbroker.testing.Fixtures.LAB;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.inject.Inject;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import io.credentialbroker.audit.AuditEvent;
import io.credentialbroker.audit.AuditLog;
import io.credentialbroker.credential.ClientSecret;
import io.credentialbroker.credential.CredentialObserver;
import io.credentialbroker.credential.CredentialStore;
import io.credentialbroker.credential.PartnerCredential;
import io.credentialbroker.credential.vault.VaultCredentialStore;
import io.credentialbroker.credential.vault.VaultStores;
import io.credentialbroker.environment.Environment;
import io.credentialbroker.environment.EnvironmentRegistry;
import io.credentialbroker.rotation.CredentialChange.NewKey;
import io.credentialbroker.rotation.RotationStatus.State;
import io.credentialbroker.testing.AzureAdStandInResource;
import io.credentialbroker.testing.CallerIssuer;
import io.credentialbroker.testing.CallerIssuerResource;
import io.credentialbroker.testing.CapturedAudit;
import io.credentialbroker.testing.Fixtures;
import io.credentialbroker.testing.StandInTest;
import io.credentialbroker.testing.VaultStandIn;
import io.credentialbroker.testing.VaultStandInResource;
import io.credentialbroker.token.MintResult;
import io.credentialbroker.token.MintResult.FailureKind;
import io.credentialbroker.token.TokenService;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * Rotations across replicas (case 45): the broker under test, reached over HTTP, is one replica; a
 * second {@link RotationService} built here on its own Vault client against the same Vault stand-in
 * is the other, with a scripted Azure AD whose answers the tests hold and release with latches.
 * Either replica answers for a rotation the other runs, a cancel on one stops the other's proof at
 * its next step and nothing is stored, and a cancel that loses the race to {@code storing} is
 * refused.
 */
@QuarkusTest
@WithTestResource(AzureAdStandInResource.class)
@WithTestResource(CallerIssuerResource.class)
@WithTestResource(VaultStandInResource.class)
class RotationAcrossReplicasTest extends StandInTest {

    private static final String CREDENTIALS = "/v1/environments/lab/credentials";
    private static final String MOUNT = VaultStandIn.DEFAULT_MOUNT;
    private static final Duration RETENTION = Duration.ofHours(1);

    @Inject
    TokenService tokens;

    @Inject
    EnvironmentRegistry environments;

    private Environment lab;
    private String newSecret;
    private ScheduledThreadPoolExecutor executor;
    /** The other replica's Azure AD: what its proofs get, each call counted. */
    private volatile Proofs azureAdOfB;
    private final AtomicInteger proofsOfB = new AtomicInteger();
    private final List<AuditEvent> auditOfB = new CopyOnWriteArrayList<>();
    private RotationService replicaB;
    private VaultCredentialStore storeOfB;
    /** Released to let replica B's credential write go on (see {@link HeldWrites}). */
    private volatile CountDownLatch writesOfB = new CountDownLatch(0);
    private final CountDownLatch writeOfBArrived = new CountDownLatch(1);

    interface Proofs {

        MintResult answer(int attempt) throws InterruptedException;
    }

    @BeforeEach
    void twoReplicas() {
        CallerIssuerResource.actAs(issuer, CallerIssuer.OPERATOR);
        clock.moveToNewDay();
        azureAd.reset();
        Fixtures.seed(vault);
        tokens.activate("lab",
                new PartnerCredential(LAB.clientId(), new ClientSecret(LAB.clientSecret()), LAB.domain(), 1, null));
        newSecret = "fake-lab-secret-new-" + UUID.randomUUID();
        lab = environments.find("lab").orElseThrow();
        executor = new ScheduledThreadPoolExecutor(2);
        executor.setRemoveOnCancelPolicy(true);
        storeOfB = VaultStores.against(vault, Duration.ofSeconds(2));
        azureAdOfB = attempt -> notYet();
        replicaB = new RotationService(new HeldWrites(storeOfB), storeOfB, (environment, candidate) -> {
            try {
                return azureAdOfB.answer(proofsOfB.incrementAndGet());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return notYet();
            }
        }, (environment, credential, proof, sentAt) -> {
        }, new AuditLog(Clock.systemUTC()) {

            @Override
            public void record(AuditEvent event) {
                auditOfB.add(event);
            }
        }, clock, new RotationPolicy(Duration.ofMinutes(10), Duration.ofMillis(100), Duration.ofMillis(50),
                Duration.ofSeconds(30), RETENTION), executor, CredentialObserver.NONE);
    }

    @AfterEach
    void stopReplicaB() {
        writesOfB.countDown();
        executor.shutdownNow();
        azureAd.release();
    }

    @Test
    @DisplayName("case 45: a rotation started on one replica is answered by the other, proving and then completed")
    void aRotationStartedHereIsAnsweredByTheOtherReplica() {
        azureAd.stub(tokenRequest(LAB.domain(), LAB.clientId(), newSecret).willReturn(error(401, "invalid_client",
                7000215)));
        String id = rotate("\"1\"").statusCode(202).extract().path("id");

        await().atMost(Duration.ofSeconds(10)).until(() -> replicaB.status(lab, id).attempts() >= 1);
        RotationStatus proving = replicaB.status(lab, id);
        assertThat(proving.state()).isEqualTo(State.PROVING);
        assertThat(proving.errorCode()).isEqualTo("credential_invalid");
        assertThat(proving.azureAdErrorCodes()).containsExactly(7000215);

        azureAd.reset();
        azureAd.stub(tokenRequest(LAB.domain(), LAB.clientId(), newSecret)
                .willReturn(issued(newToken(LAB, "proof"), 3600)));
        await().atMost(Duration.ofSeconds(10)).until(() -> replicaB.status(lab, id).state() == State.COMPLETED);
        assertThat(replicaB.status(lab, id).version()).isEqualTo(2);
        String record = LAB.vaultPath() + "/rotations/" + id;
        int written = vault.currentVersion(MOUNT, record).orElseThrow();
        for (int version = Math.max(1, written - 9); version <= written; version++) {
            assertThat(vault.data(MOUNT, record, version)).as("version %d", version).get()
                    .satisfies(fields -> assertThat(fields.toString()).doesNotContain(newSecret)
                            .doesNotContain(LAB.clientSecret()));
        }
    }

    @Test
    @DisplayName("cases 23, 45: a rotation the other replica proves is answered here over HTTP, and blocks a second one here")
    void aRotationProvedElsewhereIsAnsweredHere() {
        RotationStatus started = replicaB.rotate("ops", lab, 1, newKey());
        assertThat(started.state()).isEqualTo(State.PROVING);

        given().get(CREDENTIALS + "/rotations/" + started.id()).then().statusCode(200)
                .body("state", equalTo("proving")).body("from_version", equalTo(1))
                .body("cancel_requested", nullValue());
        rotate("\"1\"").statusCode(412).body("code", equalTo("rotation_in_progress"));
        given().get(CREDENTIALS + "/rotations/" + UUID.randomUUID()).then().statusCode(404)
                .body("code", equalTo("unknown_rotation"));
    }

    @Test
    @DisplayName("case 45: a cancel sent here stops the other replica's proof at its next step; nothing is stored, no further proof")
    void aCancelSentHereStopsTheOtherReplicasProof() throws Exception {
        CountDownLatch secondAttempt = new CountDownLatch(1);
        CountDownLatch answerIt = new CountDownLatch(1);
        azureAdOfB = attempt -> {
            if (attempt == 2) {
                secondAttempt.countDown();
                answerIt.await(10, TimeUnit.SECONDS);
            }
            return notYet();
        };
        RotationStatus started = replicaB.rotate("ops", lab, 1, newKey());
        assertThat(secondAttempt.await(10, TimeUnit.SECONDS)).isTrue();

        given().delete(CREDENTIALS + "/rotations/" + started.id()).then().statusCode(202)
                .body("state", equalTo("proving")).body("cancel_requested", equalTo(true));
        answerIt.countDown();

        await().atMost(Duration.ofSeconds(10)).until(() -> replicaB.status(lab, started.id()).state(),
                state -> state == State.CANCELLED);
        assertThat(proofsOfB.get()).as("no proof after the one in flight when the cancel was written").isEqualTo(2);
        assertThat(vault.currentVersion(MOUNT, LAB.vaultPath())).hasValue(1);
        given().get(CREDENTIALS + "/rotations/" + started.id()).then().statusCode(200)
                .body("state", equalTo("cancelled"));
        given().delete(CREDENTIALS + "/rotations/" + started.id()).then().statusCode(200)
                .body("state", equalTo("cancelled"));
        assertThat(auditOfB).filteredOn(event -> event.action().value().equals("credentials.rotate.cancel"))
                .singleElement().satisfies(event -> {
                    assertThat(event.caller()).as("who asked, on the other replica").isEqualTo(CallerIssuer.OPERATOR);
                    assertThat(event.outcome().value()).isEqualTo("succeeded");
                });
    }

    @Test
    @DisplayName("a cancel requested elsewhere frees the environment at once: a new rotation may start while the old one winds down")
    void aCancelRequestedFreesTheEnvironment() {
        RotationStatus started = replicaB.rotate("ops", lab, 1, newKey());
        given().delete(CREDENTIALS + "/rotations/" + started.id()).then().statusCode(202);
        azureAd.stub(tokenRequest(LAB.domain(), LAB.clientId(), newSecret)
                .willReturn(issued(newToken(LAB, "proof"), 3600)));

        rotate("\"1\"").statusCode(200).body("version", equalTo(2));

        await().atMost(Duration.ofSeconds(10)).until(() -> replicaB.status(lab, started.id()).state(),
                state -> state == State.CANCELLED);
        assertThat(vault.currentVersion(MOUNT, LAB.vaultPath())).hasValue(2);
    }

    @Test
    @DisplayName("cancel vs storing, the cancel first: the other replica proves the key, finds the cancel when it claims storing, and stores nothing")
    void aCancelRecordedBeforeStoringWins() throws Exception {
        CountDownLatch answerIt = new CountDownLatch(1);
        RotationStatus started = rotateOnBProvingUntil(answerIt);

        given().delete(CREDENTIALS + "/rotations/" + started.id()).then().statusCode(202);
        answerIt.countDown();

        await().atMost(Duration.ofSeconds(10)).until(() -> replicaB.status(lab, started.id()).state(),
                state -> state == State.CANCELLED);
        assertThat(vault.currentVersion(MOUNT, LAB.vaultPath())).as("the proved key was never stored").hasValue(1);
        assertThat(vault.count("POST", Fixtures.dataPath(LAB))).isZero();
    }

    @Test
    @DisplayName("cancel vs storing, storing first: a cancel that arrives while the key is written is refused with 409 rotation_finished, and the key is stored")
    void aCancelAfterStoringBeganIsRefused() throws Exception {
        writesOfB = new CountDownLatch(1);
        azureAdOfB = attempt -> proved();
        RotationStatus started = replicaB.rotate("ops", lab, 1, newKey());
        assertThat(writeOfBArrived.await(10, TimeUnit.SECONDS)).isTrue();

        given().get(CREDENTIALS + "/rotations/" + started.id()).then().statusCode(200)
                .body("state", equalTo("storing"));
        given().delete(CREDENTIALS + "/rotations/" + started.id()).then().statusCode(409)
                .body("code", equalTo("rotation_finished"));
        writesOfB.countDown();

        await().atMost(Duration.ofSeconds(10)).until(() -> replicaB.status(lab, started.id()).state(),
                state -> state == State.COMPLETED);
        assertThat(vault.currentVersion(MOUNT, LAB.vaultPath())).hasValue(2);
        given().get(CREDENTIALS + "/rotations/" + started.id()).then().statusCode(200)
                .body("state", equalTo("completed")).body("version", equalTo(2));
    }

    @Test
    @DisplayName("case 45: the replica proving a key goes away; a cancel recorded here ends the rotation cancelled once that replica's time is up, audited here, nothing stored")
    void aCancelOutlivesTheReplicaThatWasProving() throws Exception {
        RotationStatus started = replicaB.rotate("ops", lab, 1, newKey());
        replicaBGoesAway();

        try (CapturedAudit audit = CapturedAudit.start()) {
            given().delete(CREDENTIALS + "/rotations/" + started.id()).then().statusCode(202)
                    .body("state", equalTo("proving")).body("cancel_requested", equalTo(true));
            clock.advance(Duration.ofSeconds(30));
            given().get(CREDENTIALS + "/rotations/" + started.id()).then().statusCode(200)
                    .body("state", equalTo("proving")).body("cancel_requested", equalTo(true));

            clock.advance(Duration.ofSeconds(31)); // past retry-interval and a minute's slack
            given().get(CREDENTIALS + "/rotations/" + started.id()).then().statusCode(200)
                    .body("state", equalTo("cancelled")).body("finished_at", notNullValue());
            given().delete(CREDENTIALS + "/rotations/" + started.id()).then().statusCode(200)
                    .body("state", equalTo("cancelled"));

            assertThat(audit.events("lab")).filteredOn(event -> event.path("rotation_id").asText()
                    .equals(started.id())).extracting(event -> event.path("action").asText() + " "
                            + event.path("outcome").asText())
                    .containsExactly("credentials.rotate.cancel requested", "credentials.rotate.cancel succeeded");
        }
        assertThat(recordOf(started.id())).containsEntry("state", "cancelled");
        assertThat(vault.currentVersion(MOUNT, LAB.vaultPath())).hasValue(1);
    }

    @Test
    @DisplayName("case 45: the replica proving a key goes away; past the deadline any replica reports the rotation failed with its last refusal, audited once")
    void aRotationWhoseReplicaWentAwayFailsAtItsDeadline() throws Exception {
        RotationStatus started = replicaB.rotate("ops", lab, 1, newKey());
        await().atMost(Duration.ofSeconds(10)).until(() -> replicaB.status(lab, started.id()).attempts() >= 1);
        replicaBGoesAway();

        try (CapturedAudit audit = CapturedAudit.start()) {
            clock.advance(Duration.ofMinutes(10));
            given().get(CREDENTIALS + "/rotations/" + started.id()).then().statusCode(200)
                    .body("state", equalTo("proving"));

            clock.advance(Duration.ofSeconds(61));
            given().get(CREDENTIALS + "/rotations/" + started.id()).then().statusCode(200)
                    .body("state", equalTo("failed")).body("error_code", equalTo("credential_invalid"))
                    .body("azure_ad_error_codes", equalTo(List.of(7000215)))
                    .body("finished_at", equalTo(started.deadline().toString()));
            given().get(CREDENTIALS + "/rotations/" + started.id()).then().statusCode(200)
                    .body("state", equalTo("failed"));
            given().delete(CREDENTIALS + "/rotations/" + started.id()).then().statusCode(409)
                    .body("code", equalTo("rotation_finished"));

            assertThat(audit.events("lab")).filteredOn(event -> event.path("action").asText()
                    .equals("credentials.rotate")).singleElement().satisfies(event -> {
                        assertThat(event.path("outcome").asText()).isEqualTo("failed");
                        assertThat(event.path("rotation_id").asText()).isEqualTo(started.id());
                        assertThat(event.path("error_code").asText()).isEqualTo("credential_invalid");
                    });
        }
        assertThat(vault.currentVersion(MOUNT, LAB.vaultPath())).hasValue(1);
    }

    @Test
    @DisplayName("case 45: a replica that is late, not gone, finds its rotation settled elsewhere: asked, it shows that end; its proof stores nothing and it audits no second end")
    void aLateReplicaTakesTheSettledEnd() throws Exception {
        CountDownLatch answerIt = new CountDownLatch(1);
        RotationStatus started = rotateOnBProvingUntil(answerIt);
        given().delete(CREDENTIALS + "/rotations/" + started.id()).then().statusCode(202);
        clock.advance(Duration.ofSeconds(61));
        given().get(CREDENTIALS + "/rotations/" + started.id()).then().statusCode(200)
                .body("state", equalTo("cancelled"));
        assertThat(replicaB.status(lab, started.id()).state()).as("the late replica, asked before its attempt returns")
                .isEqualTo(State.CANCELLED);

        answerIt.countDown();
        await().atMost(Duration.ofSeconds(10)).until(() -> replicaB.status(lab, started.id()).state(),
                state -> state == State.CANCELLED);
        assertThat(vault.currentVersion(MOUNT, LAB.vaultPath())).as("the proved key was never stored").hasValue(1);
        assertThat(vault.count("POST", Fixtures.dataPath(LAB))).isZero();
        assertThat(auditOfB).as("the end was audited where it was settled").noneMatch(
                event -> event.action().value().equals("credentials.rotate.cancel"));
        assertThat(recordOf(started.id())).containsEntry("state", "cancelled");
    }

    @Test
    @DisplayName("retention: a finished rotation's record is deleted from Vault when a rotation starts after its retention; the newer one stays")
    void dropsRecordsPastTheirRetentionWhenTheNextStarts() {
        azureAd.stub(tokenRequest(LAB.domain()).willReturn(issued(newToken(LAB, "proof"), 3600)));
        String first = rotate("\"1\"").statusCode(200).extract().path("id");
        String firstRecord = LAB.vaultPath() + "/rotations/" + first;
        assertThat(vault.currentVersion(MOUNT, firstRecord)).isPresent();

        clock.advance(RETENTION.plusMinutes(1));
        given().get(CREDENTIALS + "/rotations/" + first).then().statusCode(404).body("code",
                equalTo("unknown_rotation"));
        newSecret = "fake-lab-secret-newer-" + UUID.randomUUID();
        String second = rotate("\"2\"").statusCode(200).extract().path("id");

        assertThat(vault.currentVersion(MOUNT, firstRecord)).as("deleted with its history").isEmpty();
        assertThat(replicaB.status(lab, second).state()).isEqualTo(State.COMPLETED);
    }

    // ---- helpers -------------------------------------------------------------------------------

    /**
     * Replica B starts a rotation and is inside its first proof attempt when this returns: Azure AD
     * accepts the key once {@code answerIt} is counted down.
     */
    private RotationStatus rotateOnBProvingUntil(CountDownLatch answerIt) throws InterruptedException {
        CountDownLatch proving = new CountDownLatch(1);
        azureAdOfB = attempt -> {
            proving.countDown();
            answerIt.await(10, TimeUnit.SECONDS);
            return proved();
        };
        RotationStatus started = replicaB.rotate("ops", lab, 1, newKey());
        assertThat(proving.await(10, TimeUnit.SECONDS)).isTrue();
        return started;
    }

    /**
     * Replica B stops, as a pod that is deleted: no attempt of its runs again, nothing more is written.
     */
    private void replicaBGoesAway() throws InterruptedException {
        executor.shutdownNow();
        assertThat(executor.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }

    private java.util.Map<String, Object> recordOf(String id) {
        String record = LAB.vaultPath() + "/rotations/" + id;
        return vault.data(MOUNT, record, vault.currentVersion(MOUNT, record).orElseThrow()).orElseThrow();
    }

    private io.restassured.response.ValidatableResponse rotate(String ifMatch) {
        return given().contentType("application/json").header("If-Match", ifMatch)
                .body("{\"client_secret\": \"" + newSecret + "\"}").put(CREDENTIALS).then();
    }

    private NewKey newKey() {
        return new NewKey(new ClientSecret(newSecret), Optional.empty(), Optional.empty());
    }

    private static MintResult notYet() {
        return new MintResult.Failed(FailureKind.CREDENTIAL_INVALID, 401, "invalid_client", List.of(7000215),
                "trace", "correlation", Optional.empty());
    }

    private static MintResult proved() {
        return new MintResult.Issued(newToken(LAB, "proof-of-b"), Duration.ofHours(1), Optional.empty());
    }

    /** Replica B's credential store, whose writes wait for the test to let them through. */
    private final class HeldWrites implements CredentialStore {

        private final CredentialStore store;

        HeldWrites(CredentialStore store) {
            this.store = store;
        }

        @Override
        public PartnerCredential read(Environment environment) {
            return store.read(environment);
        }

        @Override
        public PartnerCredential read(Environment environment, int version) {
            return store.read(environment, version);
        }

        @Override
        public io.credentialbroker.credential.CredentialMetadata metadata(Environment environment) {
            return store.metadata(environment);
        }

        @Override
        public PartnerCredential write(Environment environment, PartnerCredential candidate, int expectedVersion) {
            writeOfBArrived.countDown();
            try {
                writesOfB.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return store.write(environment, candidate, expectedVersion);
        }
    }
}
