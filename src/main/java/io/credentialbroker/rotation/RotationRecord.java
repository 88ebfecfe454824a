package io.credentialbroker.rotation;

import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

import io.credentialbroker.credential.StoredRecord;
import io.credentialbroker.rotation.RotationStatus.Action;
import io.credentialbroker.rotation.RotationStatus.State;

/**
 * What the store holds about one rotation, beside the environment's credential at
 * {@code <vault-path>/rotations/<id>}: its status, who started it, and a cancel request if one was
 * made. Never the credential being proved. Every write is a check-and-set on {@link #version()},
 * which is how a cancel written on one replica and the proving replica's move to {@code storing}
 * exclude each other (docs/upstream-behaviour.md, "Rotation records").
 *
 * @param status
 *            the rotation as last written
 * @param caller
 *            who started it
 * @param requestId
 *            the request that started it, if known
 * @param cancelRequestedBy
 *            who asked to cancel it, or null
 * @param cancelRequestedAt
 *            when, or null
 * @param version
 *            the record's version in the store; 0 for one not written yet
 */
record RotationRecord(RotationStatus status, String caller, String requestId, String cancelRequestedBy,
        Instant cancelRequestedAt, int version) {

    /** Where rotation records live below the environment's Vault path. */
    static final String PREFIX = "rotations/";

    RotationRecord {
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(caller, "caller");
    }

    boolean cancelRequested() {
        return cancelRequestedBy != null;
    }

    /** This record with a cancel request from {@code by}; still at the version it was read at. */
    RotationRecord withCancelRequest(String by, Instant at) {
        return new RotationRecord(status.withCancelRequested(), caller, requestId, by, at, version);
    }

    /**
     * What any replica may write over this record, still at the version it was read at, once the
     * replica running the rotation should have moved it on and has not (it went away, or cannot reach
     * the store): empty while that replica still has time ({@link RotationPolicy#settleAfter()}).
     * <ul>
     * <li>Proving with a cancel requested: {@code cancelled}. The cancel was written by check-and-set,
     * so the key can no longer be stored; only the end was left to write.</li>
     * <li>Proving past its deadline: {@code failed}, with the last attempt's refusal or
     * {@code proof_timeout}, as its replica would have: no key is stored after the deadline.</li>
     * <li>Storing past the time its replica had to store the key and read it back: {@code unknown}.
     * Only that replica could tell whether the key landed; the credential's versions show what Vault
     * holds.</li>
     * </ul>
     */
    Optional<RotationRecord> overdue(Instant now, RotationPolicy policy) {
        Duration grace = policy.settleAfter();
        if (status.state() == State.PROVING && cancelRequested() && cancelRequestedAt != null
                && !now.isBefore(cancelRequestedAt.plus(grace))) {
            return Optional.of(as(State.CANCELLED, status.errorCode(), now));
        }
        if (status.state() == State.PROVING && !now.isBefore(status.deadline().plus(grace))) {
            return Optional.of(as(State.FAILED,
                    status.errorCode() == null ? Rotation.PROOF_TIMEOUT : status.errorCode(), status.deadline()));
        }
        if (status.state() == State.STORING
                && !now.isBefore(status.deadline().plus(policy.proofTimeout()).plus(grace))) {
            return Optional.of(as(State.UNKNOWN, Rotation.OUTCOME_UNKNOWN, null));
        }
        return Optional.empty();
    }

    private RotationRecord as(State state, String errorCode, Instant finishedAt) {
        List<Integer> codes = state == State.FAILED ? status.azureAdErrorCodes() : List.of();
        return new RotationRecord(status.as(state, errorCode, codes, finishedAt), caller, requestId, cancelRequestedBy,
                cancelRequestedAt, version);
    }

    RotationRecord atVersion(int stored) {
        return new RotationRecord(status, caller, requestId, cancelRequestedBy, cancelRequestedAt, stored);
    }

    /**
     * Whether a new rotation of the environment must wait for this one. A cancel requested means it
     * will store nothing, so it does not. A record left {@code proving} by a replica that went away
     * stops blocking at its deadline, one left {@code storing} or {@code unknown} a proof timeout later
     * (the time its replica would have given to reading Vault back).
     */
    boolean blocksOthers(Instant now, Duration proofTimeout) {
        return switch (status.state()) {
            case PROVING -> !cancelRequested() && now.isBefore(status.deadline());
            case STORING, UNKNOWN -> now.isBefore(status.deadline().plus(proofTimeout));
            default -> false;
        };
    }

    /**
     * When it ended, for retention: its finish, or for one whose replica never recorded an end, the
     * latest moment it could still have changed anything.
     */
    Instant endedAt(Duration proofTimeout) {
        if (status.finishedAt() != null) {
            return status.finishedAt();
        }
        return status.state() == State.PROVING ? status.deadline() : status.deadline().plus(proofTimeout);
    }

    Map<String, String> fields() {
        Map<String, String> fields = new HashMap<>();
        fields.put("id", status.id());
        fields.put("environment", status.environment());
        fields.put("action", status.action().label());
        fields.put("state", status.state().label());
        fields.put("from_version", Integer.toString(status.fromVersion()));
        putIfPresent(fields, "restore_version", status.restoreVersion());
        putIfPresent(fields, "version", status.version());
        putIfPresent(fields, "error_code", status.errorCode());
        if (!status.azureAdErrorCodes().isEmpty()) {
            fields.put("azure_ad_error_codes",
                    String.join(",", status.azureAdErrorCodes().stream().map(String::valueOf).toList()));
        }
        fields.put("attempts", Integer.toString(status.attempts()));
        fields.put("started_at", status.startedAt().toString());
        fields.put("deadline", status.deadline().toString());
        putIfPresent(fields, "finished_at", status.finishedAt());
        fields.put("caller", caller);
        putIfPresent(fields, "request_id", requestId);
        putIfPresent(fields, "cancel_requested_by", cancelRequestedBy);
        putIfPresent(fields, "cancel_requested_at", cancelRequestedAt);
        return fields;
    }

    /**
     * The record a stored version holds.
     *
     * @throws IllegalArgumentException
     *             if it is not a rotation record this broker wrote (the message names no value)
     */
    static RotationRecord from(StoredRecord stored) {
        Map<String, String> f = stored.fields();
        try {
            String cancelBy = f.get("cancel_requested_by");
            RotationStatus status = new RotationStatus(required(f, "id"), required(f, "environment"),
                    Action.of(required(f, "action")), State.of(required(f, "state")),
                    Integer.parseInt(required(f, "from_version")), integer(f, "restore_version"), integer(f, "version"),
                    f.get("error_code"), codes(f.get("azure_ad_error_codes")),
                    Integer.parseInt(required(f, "attempts")), Instant.parse(required(f, "started_at")),
                    Instant.parse(required(f, "deadline")), instant(f, "finished_at"), cancelBy != null);
            return new RotationRecord(status, required(f, "caller"), f.get("request_id"), cancelBy,
                    instant(f, "cancel_requested_at"), stored.version());
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("not a rotation record (" + e.getClass().getSimpleName() + ")");
        }
    }

    private static String required(Map<String, String> fields, String name) {
        String value = fields.get(name);
        if (value == null) {
            throw new IllegalArgumentException("no " + name);
        }
        return value;
    }

    private static Integer integer(Map<String, String> fields, String name) {
        String value = fields.get(name);
        return value == null ? null : Integer.valueOf(value);
    }

    private static Instant instant(Map<String, String> fields, String name) {
        String value = fields.get(name);
        return value == null ? null : Instant.parse(value);
    }

    private static List<Integer> codes(String value) {
        return value == null || value.isEmpty()
                ? List.of()
                : Arrays.stream(value.split(",")).map(Integer::valueOf).toList();
    }

    private static void putIfPresent(Map<String, String> fields, String name, Object value) {
        if (value != null) {
            fields.put(name, value.toString());
        }
    }
}
