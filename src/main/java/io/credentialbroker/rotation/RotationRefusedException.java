package io.credentialbroker.rotation;

import java.util.List;
import java.util.Objects;

/**
 * A rotation was refused, or failed while the request that started it was still waiting: nothing
 * was stored. The message is the broker's own sentence for the operator; it never holds a secret.
 */
public class RotationRefusedException extends RuntimeException {

    /** Why; the HTTP edge chooses the status from it. */
    public enum Reason {

        /** {@code If-Match} names a version that is not the current one. */
        STALE_VERSION,
        /** Another rotation of the environment is proving, or being stored, on any replica. */
        ROTATION_IN_PROGRESS,
        /** Another writer stored a version first (Vault's check-and-set refused the write). */
        VERSION_CONFLICT,
        /** A field of the request cannot be used, though well-formed; {@link #field()} names it. */
        UNUSABLE_FIELD,
        /** Azure AD refused the new credential for good (or until the deadline); see {@link #code()}. */
        PROOF_FAILED,
        /** The rotation was cancelled while the request waited. */
        CANCELLED,
        /** The rotation already completed or failed, or is being stored: too late to cancel. */
        FINISHED
    }

    private final Reason reason;
    private final String environment;
    private final String code;
    private final String field;
    private final List<Integer> azureAdErrorCodes;

    public RotationRefusedException(Reason reason, String environment, String code, String field,
            List<Integer> azureAdErrorCodes, String message) {
        super(message, null, false, false);
        this.reason = Objects.requireNonNull(reason, "reason");
        this.environment = Objects.requireNonNull(environment, "environment");
        this.code = Objects.requireNonNull(code, "code");
        this.field = field;
        this.azureAdErrorCodes = List.copyOf(azureAdErrorCodes);
    }

    public RotationRefusedException(Reason reason, String environment, String code, String field, String message) {
        this(reason, environment, code, field, List.of(), message);
    }

    public Reason reason() {
        return reason;
    }

    public String environment() {
        return environment;
    }

    /** A stable code for clients and audit events, e.g. {@code stale_version}. */
    public String code() {
        return code;
    }

    /** The request field at fault, if one is. */
    public String field() {
        return field;
    }

    public List<Integer> azureAdErrorCodes() {
        return azureAdErrorCodes;
    }
}
