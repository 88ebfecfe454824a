package io.credentialbroker.rotation;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.locks.ReentrantLock;

import io.credentialbroker.credential.CredentialStoreException;
import io.credentialbroker.credential.PartnerCredential;
import io.credentialbroker.environment.Environment;
import io.credentialbroker.rotation.RotationStatus.Action;
import io.credentialbroker.rotation.RotationStatus.State;

/**
 * One rotation of an environment's credential and its state machine: it starts {@code proving} and
 * reaches exactly one end, {@code completed}, {@code failed} or {@code cancelled}. Once storing has
 * begun it can no longer be cancelled. A write whose answer was lost leaves it {@code unknown}
 * until a read of the store says whether the write landed: it then ends {@code completed} or
 * {@code failed}, never guessed. Transitions are synchronized on the rotation and say whether they
 * took place, so the service audits each end once.
 *
 * <p>
 * Its record in the store ({@link RotationRecord}) is written only under {@link #recordLock}, by
 * check-and-set on {@link #recordVersion()}: the replica running it so never races itself, and a
 * cancel written by another replica shows as a lost check-and-set.
 */
final class Rotation {

    static final String INTERNAL_ERROR = "internal_error";
    static final String PROOF_TIMEOUT = "proof_timeout";
    static final String VERSION_CONFLICT = "version_conflict";
    static final String TENANT_MISMATCH = "tenant_mismatch";
    static final String OUTCOME_UNKNOWN = "outcome_unknown";
    /**
     * Its record vanished from the store (deleted by hand): nobody could follow or cancel it any more.
     */
    static final String RECORD_LOST = "rotation_record_lost";

    final String id;
    /** The request that started it, if one is known: its audit events name it. */
    final String requestId;
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
    /** Held while this replica reads or writes the rotation's record. */
    final ReentrantLock recordLock = new ReentrantLock();

    private State state = State.PROVING;
    private boolean storing;
    private Integer version;
    private String errorCode;
    private List<Integer> azureAdErrorCodes = List.of();
    private int attempts;
    private Instant finishedAt;
    private ScheduledFuture<?> next;
    private CredentialStoreException storeFailure;
    private int recordVersion;
    private String cancelledBy;
    private Instant cancelRequestedAt;

    Rotation(String id, String requestId, Environment environment, String caller, Action action, int fromVersion,
            Integer restoreVersion, PartnerCredential candidate, Instant startedAt, Instant deadline) {
        this.id = id;
        this.requestId = requestId;
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
        State shown = state == State.PROVING && storing ? State.STORING : state;
        return new RotationStatus(id, environment.name(), action, shown, fromVersion, restoreVersion, version,
                errorCode, azureAdErrorCodes, attempts, startedAt, deadline, finishedAt, cancelledBy != null);
    }

    /** What its record should say now, to be written over {@link #recordVersion()}. */
    synchronized RotationRecord record() {
        return new RotationRecord(status(), caller, requestId, cancelledBy, cancelRequestedAt, recordVersion);
    }

    synchronized int recordVersion() {
        return recordVersion;
    }

    synchronized void recordVersion(int stored) {
        recordVersion = stored;
    }

    /** Who cancelled it, or asked to: the audit event of the cancel names them. */
    synchronized Optional<String> cancelledBy() {
        return Optional.ofNullable(cancelledBy);
    }

    synchronized boolean isProving() {
        return state == State.PROVING;
    }

    synchronized boolean isUnknown() {
        return state == State.UNKNOWN;
    }

    /** Whether a new rotation of the same environment must wait for this one. */
    synchronized boolean blocksOthers(Instant now) {
        return state == State.PROVING && (storing || now.isBefore(deadline)) || state == State.UNKNOWN;
    }

    synchronized boolean finishedBefore(Instant cutoff) {
        return finishedAt != null && finishedAt.isBefore(cutoff);
    }

    synchronized void next(ScheduledFuture<?> scheduled) {
        if (state == State.PROVING || state == State.UNKNOWN) {
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

    /**
     * Back from {@link #beginStoring}: its record could not be moved to storing, so nothing was
     * written.
     */
    synchronized void abandonStoring() {
        if (state == State.PROVING) {
            storing = false;
        }
    }

    /** The write went out and its answer was lost; false unless it was being stored. */
    synchronized boolean markUnknown() {
        if (state != State.PROVING || !storing) {
            return false;
        }
        state = State.UNKNOWN;
        storing = false;
        errorCode = OUTCOME_UNKNOWN;
        azureAdErrorCodes = List.of();
        return true;
    }

    /**
     * @param by
     *            who cancelled it
     * @param requestedAt
     *            when they asked (on another replica, earlier than {@code now})
     */
    synchronized boolean cancel(String by, Instant requestedAt, Instant now) {
        if (state != State.PROVING || storing) {
            return false;
        }
        cancelledBy = by;
        cancelRequestedAt = requestedAt;
        end(State.CANCELLED, now);
        return true;
    }

    /**
     * Ends it as {@code recorded} says, written by another replica that found it overdue
     * ({@link RotationRecord#overdue}); false unless it was still proving and not being stored here.
     */
    synchronized boolean endedElsewhere(RotationRecord recorded) {
        RotationStatus s = recorded.status();
        if (state != State.PROVING || storing || !s.state().isEnd() || s.state() == State.COMPLETED) {
            return false;
        }
        errorCode = s.errorCode();
        azureAdErrorCodes = s.azureAdErrorCodes();
        if (s.state() == State.CANCELLED) {
            cancelledBy = recorded.cancelRequestedBy();
            cancelRequestedAt = recorded.cancelRequestedAt();
        }
        end(s.state(), s.finishedAt());
        return true;
    }

    synchronized boolean complete(int stored, Instant now) {
        if (state != State.PROVING && state != State.UNKNOWN) {
            return false;
        }
        version = stored;
        errorCode = null;
        azureAdErrorCodes = List.of();
        end(State.COMPLETED, now);
        return true;
    }

    synchronized boolean fail(String code, List<Integer> codes, CredentialStoreException cause, Instant now) {
        if (state != State.PROVING && state != State.UNKNOWN) {
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
        if (VERSION_CONFLICT.equals(errorCode)) {
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
