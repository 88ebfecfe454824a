package io.credentialbroker.rotation;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

import io.credentialbroker.audit.AuditEvent;
import io.credentialbroker.audit.AuditLog;
import io.credentialbroker.config.BrokerConfig;
import io.credentialbroker.config.BrokerExecutors;
import io.credentialbroker.credential.CredentialObserver;
import io.credentialbroker.credential.CredentialStore;
import io.credentialbroker.credential.CredentialStoreException;
import io.credentialbroker.credential.CredentialStoreException.Reason;
import io.credentialbroker.credential.CredentialVersionConflictException;
import io.credentialbroker.credential.EnvironmentRecords;
import io.credentialbroker.credential.PartnerCredential;
import io.credentialbroker.environment.Environment;
import io.credentialbroker.rotation.CredentialChange.NewKey;
import io.credentialbroker.rotation.CredentialChange.Restore;
import io.credentialbroker.rotation.RotationStatus.Action;
import io.credentialbroker.rotation.RotationStatus.State;
import io.credentialbroker.token.ProvedCredentials;
import io.credentialbroker.token.TenantThrottle;
import io.credentialbroker.token.TokenFailure;
import io.credentialbroker.token.TokenMinter;
import io.quarkus.runtime.Startup;

/**
 * Rotates an environment's credential without ever making current a key Azure AD refuses: the new
 * credential is proved with a real token request (whose token is dropped, never cached or served),
 * and only then stored, with check-and-set on the version the operator saw, so of two concurrent
 * rotations exactly one wins. New keys take minutes to be accepted (docs/upstream-behaviour.md): a
 * rotation the request cannot wait for goes on proving in the background, jittered, until
 * {@code proof-timeout}, while the old key keeps serving; it can be looked up and cancelled by id.
 * After a successful store the environment's next token is minted with the new credential.
 *
 * <p>
 * Each rotation has a record in the store beside the credential ({@link RotationRecords}), so any
 * replica answers for it and cancels it: at most one proving per environment across replicas, and
 * finished ones are deleted after {@code retention} (and beyond {@value RotationRecords#MAX_KEPT},
 * oldest first) when the next one starts. The replica proving a key reads its record before every
 * attempt, so a cancel written on another replica stops it within one attempt; it moves the record
 * to {@code storing} by check-and-set before it writes the credential, so a cancel and a store
 * never both win. Every step is an audit event; no secret reaches a log line, an audit event, an
 * exception message or a record.
 */
@Startup
@ApplicationScoped
public class RotationService {

    private static final Logger LOG = Logger.getLogger(RotationService.class);

    private final CredentialStore store;
    private final KeyProver prover;
    private final TenantThrottle throttle;
    private final ProvedCredentials active;
    private final AuditLog audit;
    private final Clock clock;
    private final RotationPolicy policy;
    private final CredentialObserver observer;
    private final ScheduledExecutorService executor;

    private final RotationRegistry registry;
    private final RotationRecords records;

    @Inject
    RotationService(CredentialStore store, EnvironmentRecords records, TokenMinter minter, ProvedCredentials active,
            AuditLog audit, Clock clock, BrokerConfig config, CredentialObserver observer, BrokerExecutors executors,
            TenantThrottle throttle) {
        this(store, records, minter, active, throttle, audit, clock, RotationPolicy.from(config.rotation()),
                executors.rotations(), observer);
    }

    /**
     * For tests and callers outside CDI (a second replica), with no throttling shared; the caller shuts
     * {@code executor} down.
     */
    RotationService(CredentialStore store, EnvironmentRecords records, TokenMinter minter, ProvedCredentials active,
            AuditLog audit, Clock clock, RotationPolicy policy, ScheduledExecutorService executor,
            CredentialObserver observer) {
        this(store, records, minter, active, TenantThrottle.NONE, audit, clock, policy, executor, observer);
    }

    RotationService(CredentialStore store, EnvironmentRecords records, TokenMinter minter, ProvedCredentials active,
            TenantThrottle throttle, AuditLog audit, Clock clock, RotationPolicy policy,
            ScheduledExecutorService executor, CredentialObserver observer) {
        this.throttle = Objects.requireNonNull(throttle, "throttle");
        this.store = Objects.requireNonNull(store, "store");
        this.records = new RotationRecords(records, clock, policy);
        this.prover = new KeyProver(minter, active, clock);
        this.active = Objects.requireNonNull(active, "active");
        this.audit = Objects.requireNonNull(audit, "audit");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.policy = Objects.requireNonNull(policy, "policy");
        this.registry = new RotationRegistry(policy.retention());
        this.executor = Objects.requireNonNull(executor, "executor");
        this.observer = Objects.requireNonNull(observer, "observer");
    }

    /**
     * Starts a rotation of the environment's credential from {@code expectedVersion} and waits up to
     * {@code sync-window} for its outcome.
     *
     * @param caller
     *            who asks, for the audit trail
     * @return the rotation, {@link State#COMPLETED} or still {@link State#PROVING}
     * @throws RotationRefusedException
     *             if it cannot start (stale version, another rotation proving, an unusable field) or
     *             failed within the window (Azure AD refused the credential, another writer won);
     *             nothing was stored
     * @throws CredentialStoreException
     *             if the store could not be read, or written within the window; nothing was stored
     */
    public RotationStatus rotate(String caller, Environment environment, int expectedVersion,
            CredentialChange change) {
        Objects.requireNonNull(caller, "caller");
        Objects.requireNonNull(environment, "environment");
        Objects.requireNonNull(change, "change");
        Action action = change instanceof Restore ? Action.RESTORE : Action.ROTATE;
        Rotation run;
        try {
            registry.reserve(environment, clock.instant());
            try {
                run = prepare(caller, environment, action, expectedVersion, change);
                // the record first, so a replica that loses the race for the index finds it
                run.recordVersion(records.write(environment, run.record()).version());
                try {
                    records.claim(environment, run.id);
                } catch (RuntimeException e) {
                    records.deleteQuietly(environment, run.id);
                    throw e;
                }
                registry.add(run);
            } finally {
                registry.release(environment);
            }
        } catch (RotationRefusedException e) {
            record(AuditEvent.rotationRejected(clock.instant(), caller, environment.name(), action.auditAction(),
                    expectedVersion, e.code()));
            throw e;
        } catch (CredentialStoreException e) {
            record(AuditEvent.rotationFailed(clock.instant(), caller, environment.name(), action.auditAction(),
                    expectedVersion, e.reason().code(), List.of()));
            throw e;
        }
        audit.record(AuditEvent.rotationProving(clock.instant(), caller, environment.name(), action.auditAction(),
                run.fromVersion).withRotation(run.id));
        LOG.infof("Rotation %s of environment '%s' (%s) started from version %d: proving the credential against"
                + " Azure AD until %s", run.id, environment.name(), action.label(), run.fromVersion, run.deadline);
        schedule(run, Duration.ZERO);
        return awaitOutcome(run);
    }

    /**
     * The rotation with this id: from this replica's memory if it runs it (fresher), else from its
     * record in the store.
     *
     * @throws UnknownRotationException
     *             if there is no such rotation of this environment, or it finished over
     *             {@code retention} ago
     * @throws CredentialStoreException
     *             if its record cannot be read
     */
    public RotationStatus status(Environment environment, String id) {
        Optional<Rotation> local = local(environment, id);
        if (local.isPresent()) {
            Rotation run = local.get();
            RotationStatus status = run.status();
            if (status.state() != State.PROVING) {
                return status;
            }
            // what another replica wrote shows before this one's next attempt reads it: a cancel, or the
            // end it settled while this replica was late
            run.recordLock.lock();
            try {
                Optional<RotationRecord> found = records.read(environment, id);
                if (found.isPresent() && endedElsewhere(run, found.get())) {
                    return run.status();
                }
                return !status.cancelRequested() && found.filter(RotationRecord::cancelRequested).isPresent()
                        ? status.withCancelRequested()
                        : status;
            } catch (CredentialStoreException e) {
                return status;
            } finally {
                run.recordLock.unlock();
            }
        }
        return settle(environment, stored(environment, id)).status();
    }

    /**
     * Cancels a rotation that is still proving; nothing is stored. On the replica proving it, it is
     * cancelled at once ({@link State#CANCELLED}); from any other, the cancel is written into its
     * record, and the answer is still {@link State#PROVING} with
     * {@link RotationStatus#cancelRequested()}: the proving replica ends it at its next attempt, and it
     * can no longer be stored (the move to {@code storing} is a check-and-set the request has beaten).
     * Cancelling again changes nothing.
     *
     * @throws RotationRefusedException
     *             ({@link RotationRefusedException.Reason#FINISHED}) if it already completed or failed,
     *             or is being stored
     * @throws CredentialStoreException
     *             if its record cannot be read or written; nothing changed
     */
    public RotationStatus cancel(String caller, Environment environment, String id) {
        Objects.requireNonNull(caller, "caller");
        Optional<Rotation> local = local(environment, id);
        return local.isPresent() ? cancelHere(caller, local.get()) : requestCancel(caller, environment, id);
    }

    private Optional<Rotation> local(Environment environment, String id) {
        if (!RotationRecords.isRotationId(id)) {
            throw new UnknownRotationException(environment.name());
        }
        return registry.find(environment, id, clock.instant());
    }

    /** Its record, unless it ended longer than the retention ago (it is being deleted). */
    private RotationRecord stored(Environment environment, String id) {
        RotationRecord record = records.read(environment, id).orElseThrow(() -> new UnknownRotationException(
                environment.name()));
        Instant finished = record.status().finishedAt();
        if (finished != null && finished.isBefore(clock.instant().minus(policy.retention()))) {
            throw new UnknownRotationException(environment.name());
        }
        return record;
    }

    private RotationStatus cancelHere(String caller, Rotation run) {
        run.recordLock.lock();
        try {
            RotationStatus before = run.status();
            if (before.state() == State.CANCELLED) {
                return before;
            }
            if (!cancelled(run, caller, clock.instant())) {
                RotationStatus now = run.status();
                if (now.state() == State.CANCELLED) {
                    return now; // cancelled by someone else just now
                }
                throw finished(caller, run.environment, run.id, run.fromVersion, now.state());
            }
            return run.status();
        } finally {
            run.recordLock.unlock();
        }
    }

    /**
     * Ends {@code run} as cancelled by {@code by} if it is still proving and not being stored: audited,
     * counted, and written to its record.
     */
    private boolean cancelled(Rotation run, String by, Instant requestedAt) {
        if (!run.cancel(by, requestedAt, clock.instant())) {
            return false;
        }
        audit.record(AuditEvent.rotationCancelled(clock.instant(), by, run.environment.name(), run.fromVersion)
                .withRotation(run.id));
        observer.rotationFinished(run.environment.name(), "cancelled");
        LOG.infof("Rotation %s of environment '%s' cancelled while proving; version %d stays current", run.id,
                run.environment.name(), run.fromVersion);
        writeEnd(run);
        run.settled.complete(null);
        return true;
    }

    /** Writes a cancel into the record of a rotation another replica proves (or proved). */
    private RotationStatus requestCancel(String caller, Environment environment, String id) {
        for (int race = 0; race < 5; race++) {
            RotationRecord record = settle(environment, stored(environment, id));
            RotationStatus status = record.status();
            if (status.state() == State.CANCELLED || status.state() == State.PROVING && record.cancelRequested()) {
                return status;
            }
            if (status.state() != State.PROVING) {
                throw finished(caller, environment, id, status.fromVersion(), status.state());
            }
            try {
                RotationRecord requested = records.write(environment,
                        record.withCancelRequest(caller, clock.instant()));
                audit.record(AuditEvent.rotationCancelRequested(clock.instant(), caller, environment.name(),
                        status.fromVersion()).withRotation(id));
                LOG.infof("Rotation %s of environment '%s': cancel requested; the replica proving it ends it at its"
                        + " next attempt, and it can no longer be stored", id, environment.name());
                return requested.status();
            } catch (CredentialVersionConflictException e) {
                // the proving replica wrote its progress, or moved on: look again
            }
        }
        throw new CredentialStoreException(Reason.UNAVAILABLE, environment.name(), "the record of rotation " + id
                + " kept changing while a cancel was being written; nothing was changed, try again");
    }

    /**
     * The record, settled first if the replica running the rotation should have moved it on by now and
     * has not ({@link RotationRecord#overdue}): written by check-and-set and audited as that replica
     * would have, so a rotation whose pod went away still reaches the end that is already decided,
     * whichever replica is asked. A lost race means a replica moved it on just now: the record is read
     * again. A store that cannot be written leaves it as it was, to be settled at the next look.
     */
    private RotationRecord settle(Environment environment, RotationRecord record) {
        Optional<RotationRecord> overdue = record.overdue(clock.instant(), policy);
        if (overdue.isEmpty()) {
            return record;
        }
        RotationRecord written;
        try {
            written = records.write(environment, overdue.get());
        } catch (CredentialVersionConflictException e) {
            return stored(environment, record.status().id());
        } catch (CredentialStoreException e) {
            return record;
        }
        RotationStatus status = written.status();
        String id = status.id();
        if (status.state() == State.CANCELLED) {
            audit.record(AuditEvent.rotationCancelled(clock.instant(), written.cancelRequestedBy(),
                    environment.name(), status.fromVersion()).withRotation(id).withRequestId(written.requestId()));
            observer.rotationFinished(environment.name(), "cancelled");
            LOG.warnf("Rotation %s of environment '%s': the cancel recorded at %s was not taken up by the replica"
                    + " proving it; ended cancelled here, nothing was stored", id, environment.name(),
                    written.cancelRequestedAt());
        } else if (status.state() == State.FAILED) {
            record(AuditEvent.rotationFailed(clock.instant(), written.caller(), environment.name(),
                    status.action().auditAction(), status.fromVersion(), status.errorCode(),
                    status.azureAdErrorCodes()).withRotation(id).withRequestId(written.requestId()));
            LOG.warnf("Rotation %s of environment '%s': its deadline %s passed without the replica proving it"
                    + " recording an end; ended failed (%s) here, nothing was stored", id, environment.name(),
                    status.deadline(), status.errorCode());
        } else {
            LOG.warnf("Rotation %s of environment '%s': the replica storing it recorded no outcome; only Vault's"
                    + " versions can tell whether version %d holds its key (GET .../credentials/versions)", id,
                    environment.name(), status.fromVersion() + 1);
        }
        return written;
    }

    private RotationRefusedException finished(String caller, Environment environment, String id, int fromVersion,
            State state) {
        String what = state == State.STORING || state == State.UNKNOWN
                ? "is being stored"
                : "has " + state.label();
        RotationRefusedException refused = new RotationRefusedException(RotationRefusedException.Reason.FINISHED,
                environment.name(), "rotation_finished", null,
                "Rotation " + id + " " + what + "; it can no longer be cancelled.");
        audit.record(AuditEvent.rotationCancelRejected(clock.instant(), caller, environment.name(), fromVersion,
                refused.code()).withRotation(id));
        return refused;
    }

    // ---- starting ------------------------------------------------------------------------------

    private Rotation prepare(String caller, Environment environment, Action action, int expectedVersion,
            CredentialChange change) {
        int current = store.metadata(environment).currentVersion();
        if (expectedVersion != current) {
            throw new RotationRefusedException(RotationRefusedException.Reason.STALE_VERSION, environment.name(),
                    "stale_version", null, "If-Match names version " + expectedVersion + ", but version " + current
                            + " is current; read the credential again and rotate from its ETag.");
        }
        Optional<PartnerCredential> inForce = readIfUsable(environment, current);
        PartnerCredential candidate;
        Integer restoreVersion = null;
        String changedField;
        if (change instanceof NewKey newKey) {
            String clientId = newKey.clientId().or(() -> inForce.map(PartnerCredential::clientId))
                    .orElseThrow(() -> missingFromCurrent(environment, current, "client_id"));
            String domain = newKey.domain().or(() -> inForce.map(PartnerCredential::domain))
                    .orElseThrow(() -> missingFromCurrent(environment, current, "domain"));
            candidate = PartnerCredential.candidate(clientId, newKey.clientSecret(), domain);
            changedField = "client_secret";
        } else {
            restoreVersion = ((Restore) change).version();
            changedField = "restore_version";
            if (restoreVersion == current) {
                throw unusable(environment, changedField, "credential_unchanged",
                        "Version " + current + " is already current; there is nothing to restore.");
            }
            candidate = readForRestore(environment, restoreVersion).asCandidate();
        }
        if (inForce.isPresent() && candidate.sameKeyAs(inForce.get())) {
            throw unusable(environment, changedField, "credential_unchanged", "The credential given is the one"
                    + " version " + current + " already holds; nothing would change.");
        }
        Instant now = clock.instant();
        String requestId = MDC.get(AuditLog.REQUEST_ID) instanceof String id ? id : null;
        return new Rotation(UUID.randomUUID().toString(), requestId, environment, caller, action, current,
                restoreVersion, candidate, now, now.plus(policy.proofTimeout()));
    }

    /** The current version, if it holds a credential; a rotation is how an unusable one gets fixed. */
    private Optional<PartnerCredential> readIfUsable(Environment environment, int version) {
        try {
            return Optional.of(store.read(environment, version));
        } catch (CredentialStoreException e) {
            if (e.reason() == Reason.INVALID_CONTENT || e.reason() == Reason.NOT_FOUND) {
                return Optional.empty();
            }
            throw e;
        }
    }

    private PartnerCredential readForRestore(Environment environment, int version) {
        try {
            return store.read(environment, version);
        } catch (CredentialStoreException e) {
            String why = switch (e.reason()) {
                case NOT_FOUND -> "does not exist (never written, or fallen away past the store's version limit)";
                case INVALID_CONTENT -> "is deleted, destroyed or holds no usable credential";
                default -> throw e;
            };
            throw unusable(environment, "restore_version", "restore_version_unavailable",
                    "Version " + version + " " + why + "; it cannot be restored.");
        }
    }

    private static RotationRefusedException missingFromCurrent(Environment environment, int current, String field) {
        return unusable(environment, field, "current_credential_unusable", "Version " + current
                + " holds no usable credential to take " + field + " from; give " + field + " in the request.");
    }

    private static RotationRefusedException unusable(Environment environment, String field, String code,
            String message) {
        return new RotationRefusedException(RotationRefusedException.Reason.UNUSABLE_FIELD, environment.name(), code,
                field, message);
    }

    /** Waits up to the sync window; a failure within it is the request's failure. */
    private RotationStatus awaitOutcome(Rotation run) {
        try {
            run.settled.get(policy.syncWindow().toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            // still proving: the request answers 202 and proving goes on
        } catch (ExecutionException e) {
            // never completed exceptionally
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        RotationStatus status = run.status();
        if (status.state() == State.FAILED) {
            throw run.failureForRequest();
        }
        if (status.state() == State.CANCELLED) {
            throw new RotationRefusedException(RotationRefusedException.Reason.CANCELLED, run.environment.name(),
                    "rotation_cancelled", null, "Rotation " + run.id + " was cancelled; nothing was stored.");
        }
        return status;
    }

    // ---- proving and storing, on the rotation threads ------------------------------------------

    private void schedule(Rotation run, Duration pause) {
        try {
            run.next(executor.schedule(() -> attempt(run), pause.toNanos(), TimeUnit.NANOSECONDS));
        } catch (RejectedExecutionException e) {
            // shutting down
            fail(run, Rotation.INTERNAL_ERROR, List.of(), null);
        }
    }

    private void attempt(Rotation run) {
        try {
            prove(run);
        } catch (RuntimeException e) {
            // The class only: a library's message may quote what it handled.
            LOG.errorf("Rotation %s of environment '%s' failed unexpectedly: %s", run.id, run.environment.name(),
                    e.getClass().getName());
            fail(run, Rotation.INTERNAL_ERROR, List.of(), null);
        }
    }

    private void prove(Rotation run) {
        if (!run.isProving()) {
            return;
        }
        if (!clock.instant().isBefore(run.deadline)) {
            fail(run, run.lastErrorCode().orElse(Rotation.PROOF_TIMEOUT), run.lastAzureAdErrorCodes(), null);
            return;
        }
        if (!stillWanted(run)) {
            return;
        }
        Optional<Instant> throttled = throttle.throttledUntil(run.environment.name());
        if (throttled.isPresent()) {
            // Azure AD asked for quiet on this tenant (a 429 to the cache, or to an earlier proof): no
            // request before it ends. Looked at again every retry-interval, or when it ends if sooner.
            run.recordRefusal(TokenFailure.Reason.AZURE_AD_THROTTLED.code(), List.of());
            writeProgress(run);
            Duration left = Duration.between(clock.instant(), throttled.get());
            Duration poll = policy.pauseBeforeNextAttempt(Optional.empty());
            schedule(run, left.compareTo(poll) < 0 ? left : poll);
            return;
        }
        int attempt = run.countAttempt();
        KeyProver.Verdict verdict = prover.attempt(run.id, attempt, run.environment, run.candidate);
        if (verdict instanceof KeyProver.Refused refused) {
            run.recordRefusal(refused.code(), refused.azureAdErrorCodes());
            fail(run, refused.code(), refused.azureAdErrorCodes(), null);
        } else if (verdict instanceof KeyProver.NotYet notYet) {
            run.recordRefusal(notYet.code(), notYet.azureAdErrorCodes());
            if (notYet.code().equals(TokenFailure.Reason.AZURE_AD_THROTTLED.code())) {
                // the cache must leave the tenant alone as long as this proof has to
                notYet.retryAfter().ifPresent(wait -> throttle.throttled(run.environment.name(), wait));
            }
            writeProgress(run);
            schedule(run, policy.pauseWithin(notYet.retryAfter(), Duration.between(clock.instant(), run.deadline)));
        } else {
            store(run, attempt, (KeyProver.Proved) verdict);
        }
    }

    /**
     * Reads the rotation's record before an attempt: a cancel written there by another replica ends it
     * now, before the key is sent to Azure AD again. A record that cannot be read does not stop the
     * attempt: the move to {@code storing} is a check-and-set, so a cancel can still not be lost.
     */
    private boolean stillWanted(Rotation run) {
        run.recordLock.lock();
        try {
            Optional<RotationRecord> found;
            try {
                found = records.read(run.environment, run.id);
            } catch (CredentialStoreException e) {
                return true;
            }
            if (found.isEmpty()) {
                recordLost(run);
                return false;
            }
            run.recordVersion(found.get().version());
            if (endedElsewhere(run, found.get())) {
                return false;
            }
            return !(found.get().cancelRequested()
                    && cancelled(run, found.get().cancelRequestedBy(), found.get().cancelRequestedAt()));
        } finally {
            run.recordLock.unlock();
        }
    }

    private void store(Rotation run, int attempt, KeyProver.Proved proof) {
        if (!claimStoring(run)) {
            return;
        }
        LOG.infof("Rotation %s of environment '%s': Azure AD accepted the credential at attempt %d; storing it over"
                + " version %d", run.id, run.environment.name(), attempt, run.fromVersion);
        PartnerCredential stored;
        try {
            stored = store.write(run.environment, run.candidate, run.fromVersion);
        } catch (CredentialVersionConflictException e) {
            fail(run, Rotation.VERSION_CONFLICT, List.of(), null);
            return;
        } catch (CredentialStoreException e) {
            if (e.isOutcomeUnknown() && run.markUnknown()) {
                LOG.warnf("Rotation %s of environment '%s': Vault's answer to the write over version %d was lost;"
                        + " reading Vault to learn whether it was stored", run.id, run.environment.name(),
                        run.fromVersion);
                writeEnd(run);
                scheduleResolution(run, Duration.ZERO);
                return;
            }
            fail(run, e.reason().code(), List.of(), e);
            return;
        }
        completeStored(run, stored, true, proof);
    }

    /**
     * Moves the rotation, and its record by check-and-set, to {@code storing}: from here on it cannot
     * be cancelled. A cancel written into the record first wins instead, and nothing is stored; a
     * record that cannot be written fails the rotation, since storing a key nobody could then follow or
     * cancel is not an option.
     */
    private boolean claimStoring(Rotation run) {
        run.recordLock.lock();
        try {
            if (!run.beginStoring(clock.instant())) {
                if (run.isProving()) {
                    // proved, but after the deadline: the operator has been told it failed by now
                    fail(run, Rotation.PROOF_TIMEOUT, List.of(), null);
                }
                return false;
            }
            for (int race = 0; race < 5; race++) {
                try {
                    run.recordVersion(records.write(run.environment, run.record()).version());
                    return true;
                } catch (CredentialVersionConflictException e) {
                    Optional<RotationRecord> found = records.read(run.environment, run.id);
                    run.abandonStoring();
                    if (found.isEmpty()) {
                        recordLost(run);
                        return false;
                    }
                    run.recordVersion(found.get().version());
                    if (endedElsewhere(run, found.get())) {
                        return false;
                    }
                    if (found.get().cancelRequested()) {
                        LOG.infof("Rotation %s of environment '%s': proved, but a cancel was recorded first; nothing"
                                + " is stored", run.id, run.environment.name());
                        cancelled(run, found.get().cancelRequestedBy(), found.get().cancelRequestedAt());
                        return false;
                    }
                    if (!run.beginStoring(clock.instant())) {
                        return false;
                    }
                }
            }
            run.abandonStoring();
            fail(run, Rotation.INTERNAL_ERROR, List.of(), null);
            return false;
        } catch (CredentialStoreException e) {
            run.abandonStoring();
            fail(run, e.reason().code(), List.of(), e);
            return false;
        } finally {
            run.recordLock.unlock();
        }
    }

    /**
     * Learns from Vault whether a write whose answer was lost landed: it did if the version after the
     * one it was written over holds the rotation's credential (check-and-set lets no other write take
     * that version once ours is there), and did not otherwise. A read that fails is tried again after a
     * pause, as long as the proof could have lasted once more; the rotation stays {@code unknown}
     * meanwhile, and after that, rather than be guessed.
     */
    private void resolve(Rotation run) {
        if (!run.isUnknown()) {
            return;
        }
        int ours = run.fromVersion + 1;
        try {
            int current = store.metadata(run.environment).currentVersion();
            if (current >= ours) {
                PartnerCredential at = store.read(run.environment, ours);
                if (at.sameKeyAs(run.candidate)) {
                    LOG.infof("Rotation %s of environment '%s': read back, the write landed as version %d", run.id,
                            run.environment.name(), at.version());
                    // a later version stored since is the watch's to switch to, not ours to go back from
                    // the proof's token is not kept for a read-back: it may be older than the policy allows
                    completeStored(run, at, current == ours, null);
                    return;
                }
            }
            LOG.infof("Rotation %s of environment '%s': read back, the write did not land; nothing was stored",
                    run.id, run.environment.name());
            fail(run, CredentialStoreException.Reason.UNAVAILABLE.code(), List.of(),
                    new CredentialStoreException(CredentialStoreException.Reason.UNAVAILABLE, run.environment.name(),
                            "Vault's answer to the write was lost, and reading Vault back showed it did not land:"
                                    + " nothing was stored"));
        } catch (CredentialStoreException e) {
            if (clock.instant().isBefore(run.deadline.plus(policy.proofTimeout()))) {
                scheduleResolution(run, policy.pauseBeforeNextAttempt(Optional.empty()));
            } else {
                LOG.errorf("Rotation %s of environment '%s': Vault cannot be read to learn whether version %d was"
                        + " stored; the rotation stays unknown. Check GET .../credentials", run.id,
                        run.environment.name(), ours);
            }
        }
    }

    private void scheduleResolution(Rotation run, Duration pause) {
        try {
            run.next(executor.schedule(() -> {
                try {
                    resolve(run);
                } catch (RuntimeException e) {
                    LOG.errorf("Rotation %s of environment '%s': reading back the write failed unexpectedly: %s",
                            run.id, run.environment.name(), e.getClass().getName());
                }
            }, pause.toNanos(), TimeUnit.NANOSECONDS));
        } catch (RejectedExecutionException e) {
            // shutting down: the rotation stays unknown; the credential endpoint shows what Vault holds
        }
    }

    /**
     * The credential is in the store as {@code stored}: switch this replica to it if it is the current
     * version, and end the rotation.
     */
    private void completeStored(Rotation run, PartnerCredential stored, boolean current, KeyProver.Proved proof) {
        try {
            if (current) {
                active.adopt(run.environment.name(), stored, proof == null ? null : proof.token(),
                        proof == null ? null : proof.sentAt());
            }
        } catch (RuntimeException e) {
            // Stored all the same; the watch switches this replica within its interval.
            LOG.errorf("Rotation %s of environment '%s': stored version %d but could not switch the token cache"
                    + " to it: %s", run.id, run.environment.name(), stored.version(), e.getClass().getName());
        }
        if (run.complete(stored.version(), clock.instant())) {
            record(ended(run, AuditEvent.rotationSucceeded(clock.instant(), run.caller, run.environment.name(),
                    run.action.auditAction(), run.fromVersion, stored.version())));
            LOG.infof("Rotation %s of environment '%s' completed: version %d is current; the next token is minted"
                    + " with it", run.id, run.environment.name(), stored.version());
            writeEnd(run);
            run.settled.complete(null);
        }
    }

    private void fail(Rotation run, String code, List<Integer> azureAdErrorCodes, CredentialStoreException cause) {
        if (run.fail(code, azureAdErrorCodes, cause, clock.instant())) {
            record(ended(run, AuditEvent.rotationFailed(clock.instant(), run.caller, run.environment.name(),
                    run.action.auditAction(), run.fromVersion, code, azureAdErrorCodes)));
            LOG.warnf("Rotation %s of environment '%s' failed (%s, error_codes %s) after %d attempts; nothing was"
                    + " stored, version %d stays current", run.id, run.environment.name(), code, azureAdErrorCodes,
                    run.status().attempts(), run.fromVersion);
            writeEnd(run);
            run.settled.complete(null);
        }
    }

    // ---- the record ----------------------------------------------------------------------------

    /**
     * Ends {@code run} as its record says, if another replica ended it there: that replica found it
     * overdue ({@link #settle}) and audited the end, so it is not audited again here.
     */
    private boolean endedElsewhere(Rotation run, RotationRecord found) {
        if (!run.endedElsewhere(found)) {
            return false;
        }
        RotationStatus recorded = found.status();
        LOG.infof("Rotation %s of environment '%s': another replica recorded it %s (%s) while this one was late;"
                + " it stops here, nothing is stored", run.id, run.environment.name(), recorded.state().label(),
                recorded.errorCode());
        run.settled.complete(null);
        return true;
    }

    private void recordLost(Rotation run) {
        LOG.warnf("Rotation %s of environment '%s': its record is gone from the store; nothing is stored", run.id,
                run.environment.name());
        fail(run, Rotation.RECORD_LOST, List.of(), null);
    }

    /**
     * Progress while proving (attempts, the last refusal); a write that fails is retried by the next.
     */
    private void writeProgress(Rotation run) {
        write(run);
    }

    /**
     * An end (or {@code unknown}) that must reach the record: written now, or again after a pause for
     * as long as its outcome could have been read back, so other replicas do not show it proving.
     */
    private void writeEnd(Rotation run) {
        if (!write(run)) {
            scheduleEndWrite(run);
        }
    }

    private void scheduleEndWrite(Rotation run) {
        try {
            executor.schedule(() -> {
                if (!write(run)) {
                    if (clock.instant().isBefore(run.deadline.plus(policy.proofTimeout()))) {
                        scheduleEndWrite(run);
                    } else {
                        LOG.errorf("Rotation %s of environment '%s': its record could not be written; other replicas"
                                + " show its last recorded state", run.id, run.environment.name());
                    }
                }
            }, policy.pauseBeforeNextAttempt(Optional.empty()).toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            // shutting down: the record keeps its last state
        }
    }

    /**
     * Writes what this replica knows of the rotation over the record's version it last saw. Losing the
     * check-and-set means another replica wrote a cancel: while proving, that ends the rotation as
     * cancelled (and writes that); otherwise this replica's state is written over it.
     *
     * @return whether the record now says what this replica knows
     */
    private boolean write(Rotation run) {
        run.recordLock.lock();
        try {
            for (int race = 0; race < 5; race++) {
                try {
                    run.recordVersion(records.write(run.environment, run.record()).version());
                    return true;
                } catch (CredentialVersionConflictException e) {
                    Optional<RotationRecord> found = records.read(run.environment, run.id);
                    if (found.isEmpty()) {
                        if (run.isProving()) {
                            recordLost(run);
                        }
                        return true; // nothing left to write to
                    }
                    run.recordVersion(found.get().version());
                    if (found.get().status().state().isEnd() && run.status().state() != State.COMPLETED) {
                        // another replica settled it (settle): its end stands
                        endedElsewhere(run, found.get());
                        return true;
                    }
                    if (found.get().cancelRequested() && run.isProving()
                            && cancelled(run, found.get().cancelRequestedBy(), found.get().cancelRequestedAt())) {
                        return true;
                    }
                }
            }
            return false;
        } catch (CredentialStoreException e) {
            LOG.debugf("Rotation %s of environment '%s': its record could not be written (%s)", run.id,
                    run.environment.name(), e.reason().code());
            return false;
        } finally {
            run.recordLock.unlock();
        }
    }

    // ---- bookkeeping ---------------------------------------------------------------------------

    /**
     * The end of a rotation, named by its id and by the request that started it: it is often recorded
     * on a rotation thread, long after that request was answered, where no request is in the logging
     * context.
     */
    private static AuditEvent ended(Rotation run, AuditEvent event) {
        return event.withRotation(run.id).withRequestId(run.requestId);
    }

    /** A rotation that ended (succeeded, failed or rejected): audited, and counted by its outcome. */
    private void record(AuditEvent ended) {
        audit.record(ended);
        observer.rotationFinished(ended.environment(), ended.outcome().value());
    }
}
