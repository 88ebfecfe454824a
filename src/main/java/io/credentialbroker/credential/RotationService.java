package io.credentialbroker.credential;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import io.credentialbroker.audit.AuditEvent;
import io.credentialbroker.audit.AuditLog;
import io.credentialbroker.config.BrokerConfig;
import io.credentialbroker.credential.CredentialChange.NewKey;
import io.credentialbroker.credential.CredentialChange.Restore;
import io.credentialbroker.credential.CredentialStoreException.Reason;
import io.credentialbroker.credential.RotationStatus.Action;
import io.credentialbroker.credential.RotationStatus.State;
import io.credentialbroker.environment.Environment;
import io.credentialbroker.token.MintResult;
import io.credentialbroker.token.MintResult.FailureKind;
import io.credentialbroker.token.TokenFailure;
import io.credentialbroker.token.TokenMinter;
import io.quarkus.runtime.Startup;

/**
 * Rotates an environment's credential without ever making current a key Azure AD refuses: the new
 * credential is proved with a real token request (whose token is dropped, never cached or served),
 * and only then stored, with check-and-set on the version the operator saw, so of two concurrent
 * rotations exactly one wins. Azure AD may take 2-10 minutes to accept a new key (facts.md): a
 * rotation the request cannot wait for goes on proving in the background, jittered, until
 * {@code proof-timeout}, while the old key keeps serving; it can be looked up and cancelled by id.
 * After a successful store the environment's next token is minted with the new credential.
 *
 * <p>
 * Rotations live in this replica's memory: at most one proving per environment, and finished ones
 * are forgotten after {@code retention} (and beyond {@value #MAX_FINISHED}, oldest first). Every
 * step is an audit event; no secret reaches a log line, an audit event or an exception message.
 */
@Startup
@ApplicationScoped
public class RotationService {

    /** Finished rotations kept for lookup at most, whatever their age. */
    static final int MAX_FINISHED = 100;

    /**
     * Threads for proof attempts and writes. An attempt blocks for at most Azure AD's read timeout, and
     * only one rotation per environment runs, so a few threads serve many environments.
     */
    private static final int THREADS = 4;

    private static final Logger LOG = Logger.getLogger(RotationService.class);
    private static final String PROOF_TIMEOUT = "proof_timeout";
    private static final String INTERNAL_ERROR = "internal_error";
    private static final String TENANT_MISMATCH = TokenFailure.Reason.TENANT_MISMATCH.code();

    private final CredentialStore store;
    private final TokenMinter minter;
    private final ActiveCredentials active;
    private final AuditLog audit;
    private final Clock clock;
    private final RotationPolicy policy;
    private final CredentialObserver observer;
    private final ScheduledExecutorService executor;

    private final Object lock = new Object();
    /** By id, in start order. Guarded by {@link #lock}; lock order is {@code lock}, then a run. */
    private final Map<String, Run> runs = new LinkedHashMap<>();
    /** Environments whose rotation is being set up (reading the store). Guarded by {@link #lock}. */
    private final Set<String> preparing = new HashSet<>();

    @Inject
    RotationService(CredentialStore store, TokenMinter minter, ActiveCredentials active, AuditLog audit, Clock clock,
            BrokerConfig config, CredentialObserver observer) {
        this(store, minter, active, audit, clock, RotationPolicy.from(config.rotation()), newExecutor(THREADS),
                observer);
    }

    /** For tests and callers outside CDI; the service owns {@code executor} and shuts it down. */
    RotationService(CredentialStore store, TokenMinter minter, ActiveCredentials active, AuditLog audit, Clock clock,
            RotationPolicy policy, ScheduledExecutorService executor, CredentialObserver observer) {
        this.store = Objects.requireNonNull(store, "store");
        this.minter = Objects.requireNonNull(minter, "minter");
        this.active = Objects.requireNonNull(active, "active");
        this.audit = Objects.requireNonNull(audit, "audit");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.policy = Objects.requireNonNull(policy, "policy");
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
        Run run;
        try {
            reserve(environment);
            try {
                run = prepare(caller, environment, action, expectedVersion, change);
                synchronized (lock) {
                    runs.put(run.id, run);
                }
            } finally {
                synchronized (lock) {
                    preparing.remove(environment.name());
                }
            }
        } catch (RotationRefusedException e) {
            record(caller, environment, action.auditAction(), "rejected", expectedVersion, null, e.code(), List.of());
            throw e;
        } catch (CredentialStoreException e) {
            record(caller, environment, action.auditAction(), "failed", expectedVersion, null, e.reason().code(),
                    List.of());
            throw e;
        }
        record(caller, environment, action.auditAction(), "proving", run.fromVersion, null, null, List.of());
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
        return find(environment, id).status();
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
        Run run = find(environment, id);
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
            record(caller, run.environment, "credentials.rotate.cancel", "rejected", run.fromVersion, null,
                    refused.code(), List.of());
            throw refused;
        }
        record(caller, run.environment, "credentials.rotate.cancel", "succeeded", run.fromVersion, null, null,
                List.of());
        LOG.infof("Rotation %s of environment '%s' cancelled while proving; version %d stays current", run.id,
                run.environment.name(), run.fromVersion);
        run.settled.complete(null);
        return run.status();
    }

    @PreDestroy
    void stop() {
        executor.shutdownNow();
    }

    // ---- starting ------------------------------------------------------------------------------

    /** One rotation per environment at a time on this replica: the second would only lose the race. */
    private void reserve(Environment environment) {
        Instant now = clock.instant();
        synchronized (lock) {
            forgetOldRuns(now);
            Optional<Run> running = runs.values().stream()
                    .filter(run -> run.environment.name().equals(environment.name()) && run.blocksOthers(now))
                    .findFirst();
            if (running.isPresent() || preparing.contains(environment.name())) {
                String which = running.map(run -> "Rotation " + run.id).orElse("Another rotation");
                throw new RotationRefusedException(RotationRefusedException.Reason.ROTATION_IN_PROGRESS,
                        environment.name(), "rotation_in_progress", null,
                        which + " of environment '" + environment.name() + "' is still proving; wait for its"
                                + " outcome or cancel it, then read the current version again.");
            }
            preparing.add(environment.name());
        }
    }

    private Run prepare(String caller, Environment environment, Action action, int expectedVersion,
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
        return new Run(UUID.randomUUID().toString(), environment, caller, action, current, restoreVersion, candidate,
                now, now.plus(policy.proofTimeout()));
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
    private RotationStatus awaitOutcome(Run run) {
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

    private void schedule(Run run, Duration pause) {
        try {
            run.next(executor.schedule(() -> attempt(run), pause.toNanos(), TimeUnit.NANOSECONDS));
        } catch (RejectedExecutionException e) {
            // shutting down
            fail(run, INTERNAL_ERROR, List.of(), null);
        }
    }

    private void attempt(Run run) {
        try {
            prove(run);
        } catch (RuntimeException e) {
            // The class only: a library's message may quote what it handled.
            LOG.errorf("Rotation %s of environment '%s' failed unexpectedly: %s", run.id, run.environment.name(),
                    e.getClass().getName());
            fail(run, INTERNAL_ERROR, List.of(), null);
        }
    }

    private void prove(Run run) {
        if (!run.isProving()) {
            return;
        }
        if (!clock.instant().isBefore(run.deadline)) {
            fail(run, run.lastErrorCode().orElse(PROOF_TIMEOUT), run.lastAzureAdErrorCodes(), null);
            return;
        }
        int attempt = run.countAttempt();
        MintResult result = minter.mint(run.environment, run.candidate);
        if (result instanceof MintResult.Issued) {
            // Proved. The token itself is dropped: it is never cached nor handed out.
            store(run, attempt);
            return;
        }
        MintResult.Failed failed = (MintResult.Failed) result;
        String code = TokenFailure.Reason.forAzureAd(failed.kind()).code();
        run.recordRefusal(code, failed.errorCodes());
        // Azure AD's identifiers only: never the request form, never error_description (facts.md).
        LOG.debugf("Rotation %s of environment '%s': attempt %d refused (%s, http %d, error_codes %s, trace_id %s,"
                + " correlation_id %s)", run.id, run.environment.name(), attempt, code, failed.httpStatus(),
                failed.errorCodes(), failed.traceId(), failed.correlationId());
        if (failed.kind() == FailureKind.CONFIGURATION || failed.kind() == FailureKind.CREDENTIAL_EXPIRED
                || failed.kind() == FailureKind.TENANT_MISMATCH) {
            // The app or tenant is wrong for this cloud (AADSTS700016, 90002), the key has expired, or it
            // belongs to another tenant than the environment's pin: waiting cannot change that.
            fail(run, code, failed.errorCodes(), null);
            return;
        }
        // invalid_client (AADSTS7000215): the new key may not have reached every Azure AD node yet;
        // 429 and 5xx: Azure AD itself. Either way, ask again until the deadline.
        schedule(run, policy.pauseBeforeNextAttempt(failed.retryAfter()));
    }

    private void store(Run run, int attempt) {
        if (!run.beginStoring(clock.instant())) {
            if (run.isProving()) {
                // proved, but after the deadline: the operator has been told it failed by now
                fail(run, PROOF_TIMEOUT, List.of(), null);
            }
            return;
        }
        LOG.infof("Rotation %s of environment '%s': Azure AD accepted the credential at attempt %d; storing it over"
                + " version %d", run.id, run.environment.name(), attempt, run.fromVersion);
        PartnerCredential stored;
        try {
            stored = store.write(run.environment, run.candidate, run.fromVersion);
        } catch (CredentialVersionConflictException e) {
            fail(run, "version_conflict", List.of(), null);
            return;
        } catch (CredentialStoreException e) {
            fail(run, e.reason().code(), List.of(), e);
            return;
        }
        try {
            active.activate(run.environment.name(), stored);
        } catch (RuntimeException e) {
            // Stored all the same; the watch switches this replica within its interval.
            LOG.errorf("Rotation %s of environment '%s': stored version %d but could not switch the token cache"
                    + " to it: %s", run.id, run.environment.name(), stored.version(), e.getClass().getName());
        }
        if (run.complete(stored.version(), clock.instant())) {
            record(run.caller, run.environment, run.action.auditAction(), "succeeded", run.fromVersion,
                    stored.version(), null, List.of());
            LOG.infof("Rotation %s of environment '%s' completed: version %d is current; the next token is minted"
                    + " with it", run.id, run.environment.name(), stored.version());
            run.settled.complete(null);
        }
    }

    private void fail(Run run, String code, List<Integer> azureAdErrorCodes, CredentialStoreException cause) {
        if (run.fail(code, azureAdErrorCodes, cause, clock.instant())) {
            record(run.caller, run.environment, run.action.auditAction(), "failed", run.fromVersion, null, code,
                    azureAdErrorCodes);
            LOG.warnf("Rotation %s of environment '%s' failed (%s, error_codes %s) after %d attempts; nothing was"
                    + " stored, version %d stays current", run.id, run.environment.name(), code, azureAdErrorCodes,
                    run.status().attempts(), run.fromVersion);
            run.settled.complete(null);
        }
    }

    // ---- bookkeeping ---------------------------------------------------------------------------

    private Run find(Environment environment, String id) {
        synchronized (lock) {
            forgetOldRuns(clock.instant());
            Run run = id == null ? null : runs.get(id);
            // Another environment's rotation is as unknown here as a missing one.
            if (run == null || !run.environment.name().equals(environment.name())) {
                throw new UnknownRotationException(environment.name());
            }
            return run;
        }
    }

    /** Caller holds {@link #lock}. */
    private void forgetOldRuns(Instant now) {
        Instant cutoff = now.minus(policy.retention());
        runs.values().removeIf(run -> run.finishedBefore(cutoff));
        List<Run> finished = new ArrayList<>();
        for (Run run : runs.values()) {
            if (run.finishedBefore(Instant.MAX)) {
                finished.add(run);
            }
        }
        Iterator<Run> oldestFirst = finished.iterator();
        for (int excess = finished.size() - MAX_FINISHED; excess > 0 && oldestFirst.hasNext(); excess--) {
            runs.remove(oldestFirst.next().id);
        }
    }

    private void record(String caller, Environment environment, String action, String outcome, Integer fromVersion,
            Integer toVersion, String errorCode, List<Integer> azureAdErrorCodes) {
        if (action.equals("credentials.rotate.cancel")) {
            if (outcome.equals("succeeded")) {
                observer.rotationFinished(environment.name(), "cancelled");
            }
        } else if (!outcome.equals("proving")) {
            observer.rotationFinished(environment.name(), outcome);
        }
        audit.record(new AuditEvent(clock.instant(), caller, environment.name(), action, outcome, null, fromVersion,
                toVersion, null, errorCode, null, azureAdErrorCodes));
    }

    private static ScheduledExecutorService newExecutor(int threads) {
        AtomicInteger count = new AtomicInteger();
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(threads, runnable -> {
            Thread thread = new Thread(runnable, "credential-rotation-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        executor.setRemoveOnCancelPolicy(true);
        return executor;
    }

    /**
     * One rotation's state. Transitions are synchronized on the run; proving leads to one end state.
     */
    private static final class Run {

        final String id;
        final Environment environment;
        final String caller;
        final Action action;
        final int fromVersion;
        final Integer restoreVersion;
        /** Never logged; its secret redacts itself anyway. */
        final PartnerCredential candidate;
        final Instant startedAt;
        final Instant deadline;
        /**
         * Completed by the service once the rotation reached an end state and that was audited, so the
         * request waiting on it never answers before the audit trail knows.
         */
        final CompletableFuture<Void> settled = new CompletableFuture<>();

        private State state = State.PROVING;
        private boolean storing;
        private Integer version;
        private String errorCode;
        private List<Integer> azureAdErrorCodes = List.of();
        private int attempts;
        private Instant finishedAt;
        private ScheduledFuture<?> next;
        private CredentialStoreException storeFailure;

        Run(String id, Environment environment, String caller, Action action, int fromVersion, Integer restoreVersion,
                PartnerCredential candidate, Instant startedAt, Instant deadline) {
            this.id = id;
            this.environment = environment;
            this.caller = caller;
            this.action = action;
            this.fromVersion = fromVersion;
            this.restoreVersion = restoreVersion;
            this.candidate = candidate;
            this.startedAt = startedAt;
            this.deadline = deadline;
        }

        synchronized RotationStatus status() {
            return new RotationStatus(id, environment.name(), action, state, fromVersion, restoreVersion, version,
                    errorCode, azureAdErrorCodes, attempts, startedAt, deadline, finishedAt);
        }

        synchronized boolean isProving() {
            return state == State.PROVING;
        }

        /** Whether a new rotation of the same environment must wait for this one. */
        synchronized boolean blocksOthers(Instant now) {
            return state == State.PROVING && (storing || now.isBefore(deadline));
        }

        synchronized boolean finishedBefore(Instant cutoff) {
            return finishedAt != null && finishedAt.isBefore(cutoff);
        }

        synchronized void next(ScheduledFuture<?> scheduled) {
            if (state == State.PROVING) {
                next = scheduled;
            } else {
                scheduled.cancel(false);
            }
        }

        synchronized int countAttempt() {
            return ++attempts;
        }

        synchronized void recordRefusal(String code, List<Integer> codes) {
            errorCode = code;
            azureAdErrorCodes = List.copyOf(codes);
        }

        synchronized Optional<String> lastErrorCode() {
            return Optional.ofNullable(errorCode);
        }

        synchronized List<Integer> lastAzureAdErrorCodes() {
            return azureAdErrorCodes;
        }

        /** From here on it cannot be cancelled; false if it ended, or the deadline has passed. */
        synchronized boolean beginStoring(Instant now) {
            if (state != State.PROVING || storing || !now.isBefore(deadline)) {
                return false;
            }
            storing = true;
            return true;
        }

        synchronized boolean cancel(Instant now) {
            if (state != State.PROVING || storing) {
                return false;
            }
            end(State.CANCELLED, now);
            return true;
        }

        synchronized boolean complete(int stored, Instant now) {
            if (state != State.PROVING) {
                return false;
            }
            version = stored;
            errorCode = null;
            azureAdErrorCodes = List.of();
            end(State.COMPLETED, now);
            return true;
        }

        synchronized boolean fail(String code, List<Integer> codes, CredentialStoreException cause, Instant now) {
            if (state != State.PROVING) {
                return false;
            }
            errorCode = code;
            azureAdErrorCodes = List.copyOf(codes);
            storeFailure = cause;
            end(State.FAILED, now);
            return true;
        }

        private void end(State end, Instant now) {
            state = end;
            storing = false;
            finishedAt = now;
            if (next != null) {
                next.cancel(false);
            }
        }

        /** How a failure within the sync window reaches the request that started the rotation. */
        synchronized RuntimeException failureForRequest() {
            if (storeFailure != null) {
                return storeFailure;
            }
            if (INTERNAL_ERROR.equals(errorCode)) {
                return new IllegalStateException("rotation " + id + " failed internally");
            }
            if ("version_conflict".equals(errorCode)) {
                return new RotationRefusedException(RotationRefusedException.Reason.VERSION_CONFLICT,
                        environment.name(), errorCode, null, "Another writer stored a new version over version "
                                + fromVersion + " first; nothing was stored. Read the credential again.");
            }
            if (TENANT_MISMATCH.equals(errorCode)) {
                return new RotationRefusedException(RotationRefusedException.Reason.PROOF_FAILED, environment.name(),
                        errorCode, null, List.of(), "Azure AD accepted the credential, but its token comes from"
                                + " another tenant than environment '" + environment.name() + "' is pinned to: the key"
                                + " belongs to another account. Nothing was stored and version " + fromVersion
                                + " stays current.");
            }
            String codes = azureAdErrorCodes.isEmpty()
                    ? ""
                    : ", " + String.join(", ", azureAdErrorCodes.stream().map(code -> "AADSTS" + code).toList());
            return new RotationRefusedException(RotationRefusedException.Reason.PROOF_FAILED, environment.name(),
                    errorCode, action == Action.RESTORE ? "restore_version" : null, azureAdErrorCodes,
                    "Azure AD did not accept the credential (" + errorCode + codes + "); nothing was stored and"
                            + " version " + fromVersion + " stays current.");
        }
    }
}
