package io.credentialbroker.rotation;

import java.time.Instant;
import java.util.List;

import io.credentialbroker.audit.AuditAction;

/**
 * A snapshot of one rotation, for its HTTP resource, its record in the store and tests. Holds no
 * secret.
 *
 * @param id
 *            the rotation's id (a random UUID), unique across replicas
 * @param environment
 *            the environment whose credential it changes
 * @param action
 *            a new key, or a restored version
 * @param state
 *            where it stands
 * @param fromVersion
 *            the version it replaces (the request's {@code If-Match})
 * @param restoreVersion
 *            for a restore, the version whose credential it stores again
 * @param version
 *            once completed, the version it stored
 * @param errorCode
 *            once failed, the stable reason, e.g. {@code azure_ad_rejected_configuration}; while
 *            proving, why the last attempt was refused
 * @param azureAdErrorCodes
 *            Azure AD's AADSTS numbers behind {@code errorCode}, if any
 * @param attempts
 *            token requests made to prove the credential so far
 * @param startedAt
 *            when it started
 * @param deadline
 *            when proving gives up ({@code broker.rotation.proof-timeout} after the start)
 * @param finishedAt
 *            when it completed, failed or was cancelled
 * @param cancelRequested
 *            a cancel was recorded while it was proving: it will not be stored, and ends
 *            {@code cancelled} once the replica proving it reads the request
 */
public record RotationStatus(String id, String environment, Action action, State state, int fromVersion,
        Integer restoreVersion, Integer version, String errorCode, List<Integer> azureAdErrorCodes, int attempts,
        Instant startedAt, Instant deadline, Instant finishedAt, boolean cancelRequested) {

    public RotationStatus {
        azureAdErrorCodes = List.copyOf(azureAdErrorCodes);
    }

    /** This rotation with a cancel requested; nothing else changed. */
    RotationStatus withCancelRequested() {
        return new RotationStatus(id, environment, action, state, fromVersion, restoreVersion, version, errorCode,
                azureAdErrorCodes, attempts, startedAt, deadline, finishedAt, true);
    }

    /** This rotation moved to {@code state}, with its reason and the time it ended, if it did. */
    RotationStatus as(State state, String errorCode, List<Integer> azureAdErrorCodes, Instant finishedAt) {
        return new RotationStatus(id, environment, action, state, fromVersion, restoreVersion, version, errorCode,
                azureAdErrorCodes, attempts, startedAt, deadline, finishedAt, cancelRequested);
    }

    /** The states of the HTTP contract. */
    public enum State {

        /** The new credential is being proved against Azure AD; the old one keeps serving. */
        PROVING("proving"),
        /**
         * Proved, and being written to Vault: it can no longer be cancelled; next {@code completed},
         * {@code failed} or {@code unknown}.
         */
        STORING("storing"),
        /** Proved and stored as {@link RotationStatus#version()}; the next tokens are minted with it. */
        COMPLETED("completed"),
        /** Not proved in time, refused by Azure AD, or not stored; nothing changed. */
        FAILED("failed"),
        /** Cancelled while proving; nothing changed. */
        CANCELLED("cancelled"),
        /**
         * Proved, but Vault's answer to the write was lost: the broker is reading Vault to learn whether it
         * was stored, and then says {@code completed} or {@code failed}.
         */
        UNKNOWN("unknown");

        private final String label;

        State(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }

        /** The state with this label. */
        public static State of(String label) {
            for (State state : values()) {
                if (state.label.equals(label)) {
                    return state;
                }
            }
            throw new IllegalArgumentException("not a rotation state: " + label);
        }

        /** Completed, failed or cancelled: nothing more will happen to it. */
        public boolean isEnd() {
            return this == COMPLETED || this == FAILED || this == CANCELLED;
        }
    }

    /** What a rotation stores; the audit action it is recorded under. */
    public enum Action {

        /** A new key (and possibly app or tenant). */
        ROTATE("rotate", AuditAction.CREDENTIALS_ROTATE),
        /** A version stored before, stored again: a rollback. */
        RESTORE("restore", AuditAction.CREDENTIALS_RESTORE);

        private final String label;
        private final AuditAction auditAction;

        Action(String label, AuditAction auditAction) {
            this.label = label;
            this.auditAction = auditAction;
        }

        public String label() {
            return label;
        }

        public AuditAction auditAction() {
            return auditAction;
        }

        /** The action with this label. */
        public static Action of(String label) {
            for (Action action : values()) {
                if (action.label.equals(label)) {
                    return action;
                }
            }
            throw new IllegalArgumentException("not a rotation action: " + label);
        }
    }
}
