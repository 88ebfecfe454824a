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
 * Rotations live in this replica's memory: at most one proving per environment, and finished ones
 * are forgotten after {@code retention} (and beyond {@value RotationRegistry#MAX_FINISHED}, oldest
 * first). Every step is an audit event; no secret reaches a log line, an audit event or an
 * exception message.
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

    @Inject
    RotationService(CredentialStore store, TokenMinter minter, ProvedCredentials active, AuditLog audit, Clock clock,
            BrokerConfig config, CredentialObserver observer, BrokerExecutors executors, TenantThrottle throttle) {
        this(store, minter, active, throttle, audit, clock, RotationPolicy.from(config.rotation()),
                executors.rotations(), observer);
    }

    /**
     * For tests and callers outside CDI, with no throttling shared; the caller shuts {@code executor}
     * down.
     */
    RotationService(CredentialStore store, TokenMinter minter, ProvedCredentials active, AuditLog audit, Clock clock,
            RotationPolicy policy, ScheduledExecutorService executor, CredentialObserver observer) {
        this(store, minter, active, TenantThrottle.NONE, audit, clock, policy, executor, observer);
    }

    RotationService(CredentialStore store, TokenMinter minter, ProvedCredentials active, TenantThrottle throttle,
            AuditLog audit, Clock clock, RotationPolicy policy, ScheduledExecutorService executor,
            CredentialObserver observer) {
        this.throttle = Objects.requireNonNull(throttle, "throttle");
        this.store = Objects.requireNonNull(store, "store");
        this.prover = new KeyProver(minter, clock);
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
     * The rotation with this id.
     *
     * @throws UnknownRotationException
     *             if this replica holds no such rotation of this environment
     */
    public RotationStatus status(Environment environment, String id) {
        return registry.find(environment, id, clock.instant()).status();
    }

    /**
     * Cancels a rotation that is still proving; nothing is stored. Cancelling a cancelled rotation
     * again changes nothing.
     *
     * @throws RotationRefusedException
     *             ({@link RotationRefusedException.Reason#FINISHED}) if it already completed or failed,
     *             or is being stored
     */
    public RotationStatus cancel(String caller, Environment environment, String id) {
        Objects.requireNonNull(caller, "caller");
        Rotation run = registry.find(environment, id, clock.instant());
        RotationStatus before = run.status();
        if (before.state() == State.CANCELLED) {
            return before;
        }
        if (!run.cancel(clock.instant())) {
            RotationStatus now = run.status();
            if (now.state() == State.CANCELLED) {
                return now; // cancelled by someone else just now
            }
            String what = now.state() == State.PROVING ? "is being stored" : "has " + now.state().label();
            RotationRefusedException refused = new RotationRefusedException(RotationRefusedException.Reason.FINISHED,
                    run.environment.name(), "rotation_finished", null,
                    "Rotation " + run.id + " " + what + "; it can no longer be cancelled.");
            audit.record(AuditEvent.rotationCancelRejected(clock.instant(), caller, run.environment.name(),
                    run.fromVersion, refused.code()).withRotation(run.id));
            throw refused;
        }
        audit.record(AuditEvent.rotationCancelled(clock.instant(), caller, run.environment.name(), run.fromVersion)
                .withRotation(run.id));
        observer.rotationFinished(run.environment.name(), "cancelled");
        LOG.infof("Rotation %s of environment '%s' cancelled while proving; version %d stays current", run.id,
                run.environment.name(), run.fromVersion);
        run.settled.complete(null);
        return run.status();
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
        Optional<Instant> throttled = throttle.throttledUntil(run.environment.name());
        if (throttled.isPresent()) {
            // Azure AD asked for quiet on this tenant (a 429 to the cache, or to an earlier proof): no
            // request before it ends. Looked at again every retry-interval, or when it ends if sooner.
            run.recordRefusal(TokenFailure.Reason.AZURE_AD_THROTTLED.code(), List.of());
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
            schedule(run, policy.pauseBeforeNextAttempt(notYet.retryAfter()));
        } else {
            store(run, attempt, (KeyProver.Proved) verdict);
        }
    }

    private void store(Rotation run, int attempt, KeyProver.Proved proof) {
        if (!run.beginStoring(clock.instant())) {
            if (run.isProving()) {
                // proved, but after the deadline: the operator has been told it failed by now
                fail(run, Rotation.PROOF_TIMEOUT, List.of(), null);
            }
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
                scheduleResolution(run, Duration.ZERO);
                return;
            }
            fail(run, e.reason().code(), List.of(), e);
            return;
        }
        completeStored(run, stored, true, proof);
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
            run.settled.complete(null);
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
