package io.credentialbroker.rotation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import io.credentialbroker.audit.AuditEvent;
import io.credentialbroker.audit.AuditLog;
import io.credentialbroker.credential.ClientSecret;
import io.credentialbroker.credential.CredentialObserver;
import io.credentialbroker.credential.CredentialStoreException;
import io.credentialbroker.credential.PartnerCredential;
import io.credentialbroker.credential.memory.InMemoryCredentialStore;
import io.credentialbroker.environment.Cloud;
import io.credentialbroker.environment.Environment;
import io.credentialbroker.rotation.CredentialChange.NewKey;
import io.credentialbroker.rotation.CredentialChange.Restore;
import io.credentialbroker.rotation.RotationStatus.State;
import io.credentialbroker.testing.Fixtures;
import io.credentialbroker.testing.TestClock;
import io.credentialbroker.token.MintResult;
import io.credentialbroker.token.MintResult.FailureKind;

/**
 * The rotation state machine on its own: an in-memory store with check-and-set, a scripted Azure
 * AD, a clock the tests tick. The HTTP contract over real Vault and Azure AD stand-ins is in
 * {@code api.CredentialEndpointTest}.
 */
class RotationServiceTest {

    private static final Environment SANDBOX = environment("sandbox");
    private static final Environment PRIMARY = environment("primary");
    private static final Duration PROOF_TIMEOUT = Duration.ofMinutes(10);
    private static final Duration RETENTION = Duration.ofHours(1);

    private final TestClock clock = new TestClock();
    private final FlakyStore store = new FlakyStore(clock);
    private final List<AuditEvent> audit = new CopyOnWriteArrayList<>();
    private final Map<String, PartnerCredential> active = new ConcurrentHashMap<>();
    private final List<PartnerCredential> proved = new CopyOnWriteArrayList<>();
    private final String newSecret = "fake-new-secret-" + UUID.randomUUID();
    private volatile BiFunction<Environment, PartnerCredential, MintResult> azureAd = (env, credential) -> issued();
    private RotationService rotations;
    private final List<ScheduledThreadPoolExecutor> executors = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() {
        rotations = service(Duration.ofSeconds(2));
    }

    @AfterEach
    void stop() {
        executors.forEach(ScheduledThreadPoolExecutor::shutdownNow);
    }

    @Test
    @DisplayName("case 25: a proved key is stored over the expected version and the cache switches to it; the proof's token is dropped")
    void provesThenStoresThenSwitches() {
        RotationStatus status = rotations.rotate("ops", SANDBOX, 1, newKey(newSecret));

        assertThat(status.state()).isEqualTo(State.COMPLETED);
        assertThat(status.version()).isEqualTo(2);
        assertThat(status.attempts()).isEqualTo(1);
        assertThat(store.read(SANDBOX).clientSecret().reveal()).isEqualTo(newSecret);
        assertThat(active.get("sandbox").version()).isEqualTo(2);
        assertThat(active.get("sandbox").clientSecret().reveal()).isEqualTo(newSecret);
        assertThat(proved).singleElement().satisfies(candidate -> {
            assertThat(candidate.clientSecret().reveal()).isEqualTo(newSecret);
            assertThat(candidate.clientId()).isEqualTo(store.read(SANDBOX, 1).clientId());
        });
        assertThat(audit)
                .extracting(event -> event.action().value(), event -> event.outcome().value(), AuditEvent::fromVersion,
                        AuditEvent::toVersion)
                .containsExactly(tuple("credentials.rotate", "proving", 1, null),
                        tuple("credentials.rotate", "succeeded", 1, 2));
        assertThat(audit.toString() + status).doesNotContain(newSecret);
    }

    @Test
    @DisplayName("case 24: AADSTS700016 fails the rotation at once; nothing is stored, the cache is untouched")
    void failsAtOnceOnAConfigurationError() {
        azureAd = (env, credential) -> refused(FailureKind.CONFIGURATION, 400, "unauthorized_client", 700016);

        RotationRefusedException refused = catchThrowableOfType(RotationRefusedException.class,
                () -> rotations.rotate("ops", SANDBOX, 1, newKey(newSecret)));

        assertThat(refused.reason()).isEqualTo(RotationRefusedException.Reason.PROOF_FAILED);
        assertThat(refused.code()).isEqualTo("azure_ad_rejected_configuration");
        assertThat(refused.azureAdErrorCodes()).containsExactly(700016);
        assertThat(refused.getMessage()).contains("AADSTS700016", "nothing was stored").doesNotContain(newSecret);
        assertThat(proved).hasSize(1);
        assertThat(store.metadata(SANDBOX).currentVersion()).isEqualTo(1);
        assertThat(active).isEmpty();
        assertThat(audit).last().satisfies(event -> {
            assertThat(event.outcome().value()).isEqualTo("failed");
            assertThat(event.errorCode()).isEqualTo("azure_ad_rejected_configuration");
            assertThat(event.azureAdErrorCodes()).containsExactly(700016);
        });
    }

    @Test
    void failsAtOnceOnAnExpiredKey() {
        azureAd = (env, credential) -> refused(FailureKind.CREDENTIAL_EXPIRED, 401, "invalid_client", 7000222);

        RotationRefusedException refused = catchThrowableOfType(RotationRefusedException.class,
                () -> rotations.rotate("ops", SANDBOX, 1, newKey(newSecret)));

        assertThat(refused.code()).isEqualTo("credential_expired");
        assertThat(proved).hasSize(1);
    }

    @Test
    @DisplayName("AADSTS7000215 (not propagated yet) is asked again until Azure AD accepts; then stored")
    void keepsProvingWhileTheKeyPropagates() {
        AtomicInteger attempts = new AtomicInteger();
        azureAd = (env, credential) -> attempts.incrementAndGet() <= 3
                ? refused(FailureKind.CREDENTIAL_INVALID, 401, "invalid_client", 7000215)
                : issued();

        RotationStatus status = rotations.rotate("ops", SANDBOX, 1, newKey(newSecret));

        assertThat(status.state()).isEqualTo(State.COMPLETED);
        assertThat(status.attempts()).isEqualTo(4);
        assertThat(status.errorCode()).isNull();
        assertThat(store.metadata(SANDBOX).currentVersion()).isEqualTo(2);
    }

    @Test
    @DisplayName("a key Azure AD keeps refusing: proving until the deadline on the clock, then failed; nothing stored")
    void failsAtTheDeadline() {
        restartWithSyncWindow(Duration.ofMillis(100));
        azureAd = (env, credential) -> refused(FailureKind.CREDENTIAL_INVALID, 401, "invalid_client", 7000215);

        RotationStatus status = rotations.rotate("ops", SANDBOX, 1, newKey(newSecret));

        assertThat(status.state()).isEqualTo(State.PROVING);
        assertThat(status.deadline()).isEqualTo(status.startedAt().plus(PROOF_TIMEOUT));
        await().atMost(Duration.ofSeconds(5)).until(() -> rotations.status(SANDBOX, status.id()).attempts() >= 3);
        assertThat(rotations.status(SANDBOX, status.id()).errorCode()).isEqualTo("credential_invalid");

        clock.advance(PROOF_TIMEOUT);
        await().atMost(Duration.ofSeconds(5))
                .until(() -> rotations.status(SANDBOX, status.id()).state() == State.FAILED);
        RotationStatus failed = rotations.status(SANDBOX, status.id());
        assertThat(failed.errorCode()).isEqualTo("credential_invalid");
        assertThat(failed.azureAdErrorCodes()).containsExactly(7000215);
        assertThat(failed.finishedAt()).isNotNull();
        assertThat(store.metadata(SANDBOX).currentVersion()).isEqualTo(1);
        int attemptsAtTheEnd = failed.attempts();
        awaitNothingScheduled();
        assertThat(proved).as("no attempt after the end, and none left to come").hasSize(attemptsAtTheEnd);
    }

    @Test
    void cancelsWhileProvingAndNothingIsStored() {
        restartWithSyncWindow(Duration.ofMillis(100));
        azureAd = (env, credential) -> refused(FailureKind.CREDENTIAL_INVALID, 401, "invalid_client", 7000215);
        RotationStatus status = rotations.rotate("ops", SANDBOX, 1, newKey(newSecret));

        RotationStatus cancelled = rotations.cancel("ops-2", SANDBOX, status.id());
        int attemptsAtCancel = proved.size();

        assertThat(cancelled.state()).isEqualTo(State.CANCELLED);
        // an attempt already running may end; after it nothing is left to run: no attempt is scheduled
        awaitNothingScheduled();
        assertThat(proved.size()).as("at most the attempt that was already running").isBetween(attemptsAtCancel,
                attemptsAtCancel + 1);
        assertThat(rotations.status(SANDBOX, status.id()).state()).isEqualTo(State.CANCELLED);
        assertThat(store.metadata(SANDBOX).currentVersion()).isEqualTo(1);
        assertThat(rotations.cancel("ops-2", SANDBOX, status.id()).state()).as("cancelling again changes nothing")
                .isEqualTo(State.CANCELLED);
        assertThat(audit).filteredOn(event -> event.action().value().equals("credentials.rotate.cancel"))
                .singleElement().satisfies(event -> {
                    assertThat(event.caller()).isEqualTo("ops-2");
                    assertThat(event.outcome().value()).isEqualTo("succeeded");
                });
        // the environment is free again
        azureAd = (env, credential) -> issued();
        assertThat(rotations.rotate("ops", SANDBOX, 1, newKey(newSecret)).state()).isEqualTo(State.COMPLETED);
    }

    @Test
    void refusesToCancelACompletedRotation() {
        RotationStatus completed = rotations.rotate("ops", SANDBOX, 1, newKey(newSecret));

        RotationRefusedException refused = catchThrowableOfType(RotationRefusedException.class,
                () -> rotations.cancel("ops", SANDBOX, completed.id()));

        assertThat(refused.reason()).isEqualTo(RotationRefusedException.Reason.FINISHED);
        assertThat(rotations.status(SANDBOX, completed.id()).state()).isEqualTo(State.COMPLETED);
    }

    @Test
    @DisplayName("one rotation per environment at a time on a replica: the second is refused at once, other environments are free")
    void refusesASecondRotationOfTheSameEnvironmentWhileOneProves() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch arrived = new CountDownLatch(1);
        azureAd = (env, credential) -> {
            if (env.equals(SANDBOX)) {
                arrived.countDown();
                waitFor(release);
            }
            return issued();
        };
        restartWithSyncWindow(Duration.ofMillis(50));
        RotationStatus first = rotations.rotate("ops", SANDBOX, 1, newKey(newSecret));
        assertThat(arrived.await(5, TimeUnit.SECONDS)).isTrue();

        RotationRefusedException second = catchThrowableOfType(RotationRefusedException.class,
                () -> rotations.rotate("ops", SANDBOX, 1, newKey("fake-other-secret")));
        RotationStatus elsewhere = rotations.rotate("ops", PRIMARY, 1, newKey(newSecret));

        assertThat(second.reason()).isEqualTo(RotationRefusedException.Reason.ROTATION_IN_PROGRESS);
        assertThat(second.getMessage()).contains(first.id());
        assertThat(elsewhere.state()).isEqualTo(State.COMPLETED);
        release.countDown();
        await().atMost(Duration.ofSeconds(5))
                .until(() -> rotations.status(SANDBOX, first.id()).state() == State.COMPLETED);
        assertThat(store.metadata(SANDBOX).currentVersion()).isEqualTo(2);
    }

    @Test
    @DisplayName("If-Match naming an old version: refused before any token request")
    void refusesAStaleVersionWithoutAskingAzureAd() {
        rotations.rotate("ops", SANDBOX, 1, newKey(newSecret));

        RotationRefusedException refused = catchThrowableOfType(RotationRefusedException.class,
                () -> rotations.rotate("ops", SANDBOX, 1, newKey("fake-third-secret")));

        assertThat(refused.reason()).isEqualTo(RotationRefusedException.Reason.STALE_VERSION);
        assertThat(refused.getMessage()).contains("version 2 is current");
        assertThat(proved).hasSize(1);
        assertThat(audit).last().satisfies(event -> {
            assertThat(event.outcome().value()).isEqualTo("rejected");
            assertThat(event.errorCode()).isEqualTo("stale_version");
        });
    }

    @Test
    @DisplayName("case 23: another writer stores first while the key is proved: version conflict, its version stays")
    void losesTheCheckAndSetRaceToAnotherWriter() {
        azureAd = (env, credential) -> {
            // another replica's rotation lands while this one's proof is on the wire
            store.write(SANDBOX, PartnerCredential.candidate(credential.clientId(),
                    new ClientSecret("fake-other-replica-secret"), credential.domain()), 1);
            return issued();
        };

        RotationRefusedException refused = catchThrowableOfType(RotationRefusedException.class,
                () -> rotations.rotate("ops", SANDBOX, 1, newKey(newSecret)));

        assertThat(refused.reason()).isEqualTo(RotationRefusedException.Reason.VERSION_CONFLICT);
        assertThat(store.read(SANDBOX).clientSecret().reveal()).isEqualTo("fake-other-replica-secret");
        assertThat(active).isEmpty();
    }

    @Test
    @DisplayName("the store failing on the write: the request gets the store's failure; nothing is stored")
    void reportsAStoreFailureOnTheWrite() {
        store.failWrites = true;

        CredentialStoreException failure = catchThrowableOfType(CredentialStoreException.class,
                () -> rotations.rotate("ops", SANDBOX, 1, newKey(newSecret)));

        assertThat(failure.reason()).isEqualTo(CredentialStoreException.Reason.UNAVAILABLE);
        assertThat(store.metadata(SANDBOX).currentVersion()).isEqualTo(1);
        assertThat(active).isEmpty();
        assertThat(audit).last().satisfies(event -> assertThat(event.errorCode()).isEqualTo("vault_unavailable"));
    }

    @Test
    @DisplayName("restore_version: the old version is proved again and stored as a new version")
    void restoresAnEarlierVersionAsANewOne() {
        String original = store.read(SANDBOX).clientSecret().reveal();
        rotations.rotate("ops", SANDBOX, 1, newKey(newSecret));

        RotationStatus restored = rotations.rotate("ops", SANDBOX, 2, new Restore(1));

        assertThat(restored.state()).isEqualTo(State.COMPLETED);
        assertThat(restored.version()).isEqualTo(3);
        assertThat(restored.restoreVersion()).isEqualTo(1);
        assertThat(store.read(SANDBOX).clientSecret().reveal()).isEqualTo(original);
        assertThat(proved).last().satisfies(candidate -> assertThat(candidate.clientSecret().reveal())
                .isEqualTo(original));
        assertThat(audit).last().satisfies(event -> {
            assertThat(event.action().value()).isEqualTo("credentials.restore");
            assertThat(event.fromVersion()).isEqualTo(2);
            assertThat(event.toVersion()).isEqualTo(3);
        });
    }

    @Test
    void refusesToRestoreAVersionThatDoesNotExistOrIsCurrent() {
        RotationRefusedException missing = catchThrowableOfType(RotationRefusedException.class,
                () -> rotations.rotate("ops", SANDBOX, 1, new Restore(9)));
        RotationRefusedException current = catchThrowableOfType(RotationRefusedException.class,
                () -> rotations.rotate("ops", SANDBOX, 1, new Restore(1)));

        assertThat(missing.reason()).isEqualTo(RotationRefusedException.Reason.UNUSABLE_FIELD);
        assertThat(missing.field()).isEqualTo("restore_version");
        assertThat(missing.code()).isEqualTo("restore_version_unavailable");
        assertThat(current.field()).isEqualTo("restore_version");
        assertThat(current.code()).isEqualTo("credential_unchanged");
        assertThat(proved).isEmpty();
    }

    @Test
    void refusesTheKeyAlreadyInForce() {
        String current = store.read(SANDBOX).clientSecret().reveal();

        RotationRefusedException refused = catchThrowableOfType(RotationRefusedException.class,
                () -> rotations.rotate("ops", SANDBOX, 1, newKey(current)));

        assertThat(refused.code()).isEqualTo("credential_unchanged");
        assertThat(refused.field()).isEqualTo("client_secret");
        assertThat(proved).isEmpty();
    }

    @Test
    void takesAGivenClientIdAndDomainOverTheCurrentOnes() {
        String clientId = "44444444-4444-4444-8444-444444444444";

        rotations.rotate("ops", SANDBOX, 1,
                new NewKey(new ClientSecret(newSecret), Optional.of(clientId), Optional.of("other.onmicrosoft.com")));

        PartnerCredential stored = store.read(SANDBOX);
        assertThat(stored.clientId()).isEqualTo(clientId);
        assertThat(stored.domain()).isEqualTo("other.onmicrosoft.com");
    }

    @Test
    void forgetsFinishedRotationsAfterTheRetention() {
        RotationStatus completed = rotations.rotate("ops", SANDBOX, 1, newKey(newSecret));
        clock.advance(RETENTION.minusMinutes(1));
        assertThat(rotations.status(SANDBOX, completed.id()).state()).isEqualTo(State.COMPLETED);

        clock.advance(Duration.ofMinutes(2));

        assertThat(catchThrowableOfType(UnknownRotationException.class,
                () -> rotations.status(SANDBOX, completed.id()))).isNotNull();
    }

    @Test
    @DisplayName("at most a bounded number of rotation records are kept per environment, the oldest deleted first when the next starts")
    void boundsTheFinishedRotationsKept() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < RotationRecords.MAX_KEPT + 5; i++) {
            ids.add(rotations.rotate("ops", SANDBOX, i + 1, newKey(newSecret + "-" + i)).id());
        }

        for (String forgotten : ids.subList(0, 5)) {
            assertThat(store.readRecord(SANDBOX, "rotations/" + forgotten)).as("deleted from the store").isEmpty();
            assertThat(catchThrowableOfType(UnknownRotationException.class,
                    () -> rotations.status(SANDBOX, forgotten))).isNotNull();
        }
        for (String kept : ids.subList(5, ids.size())) {
            assertThat(rotations.status(SANDBOX, kept).state()).isEqualTo(State.COMPLETED);
        }
    }

    @Test
    void knowsNoRotationOfAnotherEnvironment() {
        RotationStatus completed = rotations.rotate("ops", SANDBOX, 1, newKey(newSecret));

        assertThat(catchThrowableOfType(UnknownRotationException.class,
                () -> rotations.status(PRIMARY, completed.id()))).isNotNull();
        assertThat(catchThrowableOfType(UnknownRotationException.class,
                () -> rotations.status(SANDBOX, "no-such-rotation"))).isNotNull();
    }

    // ---- helpers -------------------------------------------------------------------------------

    private RotationService service(Duration syncWindow) {
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(2);
        executor.setRemoveOnCancelPolicy(true);
        executors.add(executor);
        return new RotationService(store, store, (env, credential) -> {
            proved.add(credential);
            return azureAd.apply(env, credential);
        }, (environment, credential, proof, sentAt) -> active.put(environment, credential),
                new AuditLog(Clock.systemUTC()) {

                    @Override
                    public void record(AuditEvent event) {
                        audit.add(event);
                    }
                }, clock, new RotationPolicy(PROOF_TIMEOUT, syncWindow, Duration.ofMillis(10), Duration.ofSeconds(30),
                        RETENTION),
                executor, CredentialObserver.NONE);
    }

    private void restartWithSyncWindow(Duration syncWindow) {
        executors.forEach(ScheduledThreadPoolExecutor::shutdownNow);
        rotations = service(syncWindow);
    }

    private static NewKey newKey(String secret) {
        return new NewKey(new ClientSecret(secret), Optional.empty(), Optional.empty());
    }

    private static MintResult issued() {
        return new MintResult.Issued("fake-proof-token-" + UUID.randomUUID(), Duration.ofHours(1), Optional.empty());
    }

    private static MintResult refused(FailureKind kind, int status, String error, int aadsts) {
        return new MintResult.Failed(kind, status, error, List.of(aadsts), "trace", "correlation", Optional.empty());
    }

    private static Environment environment(String name) {
        return new Environment(name, Fixtures.SANDBOX.tenant(), Cloud.PUBLIC, "partner-center/" + name,
                Environment.defaultTokenEndpoint(Cloud.PUBLIC),
                Cloud.PUBLIC.resource());
    }

    private static void waitFor(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Waits until the rotations' executor has nothing running and nothing scheduled: from then on no
     * attempt can happen, so "nothing more happened" is a fact, not a guess after a sleep. A rotation
     * that kept proving keeps an attempt scheduled, and this fails.
     */
    private void awaitNothingScheduled() {
        ScheduledThreadPoolExecutor executor = executors.get(executors.size() - 1);
        await().atMost(Duration.ofSeconds(5)).alias("no rotation attempt running or scheduled")
                .until(() -> executor.getQueue().isEmpty() && executor.getActiveCount() == 0);
    }

    /** The dev store, whose writes can be made to fail as a sealed Vault's would. */
    private static final class FlakyStore extends InMemoryCredentialStore {

        volatile boolean failWrites;

        FlakyStore(TestClock clock) {
            super(clock);
        }

        @Override
        public synchronized PartnerCredential write(Environment environment, PartnerCredential candidate,
                int expectedVersion) {
            if (failWrites) {
                throw new CredentialStoreException(CredentialStoreException.Reason.UNAVAILABLE, environment.name(),
                        "sealed");
            }
            return super.write(environment, candidate, expectedVersion);
        }
    }
}
