package io.credentialbroker.api;

import java.time.Instant;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;

import io.credentialbroker.rotation.RotationStatus;

/**
 * A rotation: {@code proving} while the new credential is being proved, {@code storing} while it is
 * written, then {@code completed} with the {@code version} it stored, {@code failed} with an
 * {@code error_code}, or {@code cancelled}; {@code unknown} while a write whose answer was lost is
 * read back.
 *
 * @param errorCode
 *            once failed, why; while proving, why the last attempt was refused
 * @param azureAdErrorCodes
 *            the AADSTS numbers behind {@code error_code}, if Azure AD sent any
 * @param cancelRequested
 *            true once a cancel is recorded for a rotation still proving on another replica; absent
 *            otherwise
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record RotationResponse(String id, String environment, String action, String state, int fromVersion,
        Integer restoreVersion, Integer version, String errorCode, List<Integer> azureAdErrorCodes, int attempts,
        Instant startedAt, Instant deadline, Instant finishedAt, Boolean cancelRequested) {

    static RotationResponse of(RotationStatus status) {
        return new RotationResponse(status.id(), status.environment(), status.action().label(),
                status.state().label(), status.fromVersion(), status.restoreVersion(), status.version(),
                status.errorCode(), status.azureAdErrorCodes(), status.attempts(), status.startedAt(),
                status.deadline(), status.finishedAt(),
                status.cancelRequested() && status.state() != RotationStatus.State.CANCELLED ? Boolean.TRUE : null);
    }
}
