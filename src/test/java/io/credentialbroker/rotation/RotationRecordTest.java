package io.credentialbroker.rotation;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import io.credentialbroker.rotation.RotationStatus.Action;
import io.credentialbroker.rotation.RotationStatus.State;

/**
 * When a replica other than the one running a rotation may write its end (case 45): only once the
 * end is already decided and that replica has had its time to write it.
 */
class RotationRecordTest {

    private static final Instant START = Instant.parse("2026-12-01T09:00:00Z");
    private static final Duration PROOF_TIMEOUT = Duration.ofMinutes(10);
    private static final Instant DEADLINE = START.plus(PROOF_TIMEOUT);
    private static final RotationPolicy POLICY = new RotationPolicy(PROOF_TIMEOUT, Duration.ofSeconds(5),
            Duration.ofSeconds(15), Duration.ofSeconds(30), Duration.ofHours(1));
    /** One retry-interval and a minute. */
    private static final Duration GRACE = Duration.ofSeconds(75);

    @Test
    @DisplayName("a rotation still proving within its time is left to its replica")
    void leavesAProvingRotationToItsReplica() {
        RotationRecord proving = record(State.PROVING, "credential_invalid", List.of(7000215));
        assertThat(proving.overdue(START.plusSeconds(1), POLICY)).isEmpty();
        assertThat(proving.overdue(DEADLINE.plus(GRACE).minusMillis(1), POLICY)).isEmpty();
    }

    @Test
    @DisplayName("past its deadline and the grace, a proving rotation is failed with its last refusal, at its deadline")
    void failsAProvingRotationPastItsDeadline() {
        RotationRecord proving = record(State.PROVING, "credential_invalid", List.of(7000215));
        RotationStatus failed = proving.overdue(DEADLINE.plus(GRACE), POLICY).orElseThrow().status();
        assertThat(failed.state()).isEqualTo(State.FAILED);
        assertThat(failed.errorCode()).isEqualTo("credential_invalid");
        assertThat(failed.azureAdErrorCodes()).containsExactly(7000215);
        assertThat(failed.finishedAt()).isEqualTo(DEADLINE);

        RotationStatus timedOut = record(State.PROVING, null, List.of()).overdue(DEADLINE.plus(GRACE), POLICY)
                .orElseThrow().status();
        assertThat(timedOut.errorCode()).isEqualTo("proof_timeout");
    }

    @Test
    @DisplayName("a cancel not taken up within the grace is written as the end: cancelled, by who asked")
    void endsAnUnansweredCancel() {
        Instant asked = START.plusSeconds(30);
        RotationRecord requested = record(State.PROVING, null, List.of()).withCancelRequest("ops-2", asked);
        assertThat(requested.overdue(asked.plus(GRACE).minusMillis(1), POLICY)).isEmpty();

        RotationRecord cancelled = requested.overdue(asked.plus(GRACE), POLICY).orElseThrow();
        assertThat(cancelled.status().state()).isEqualTo(State.CANCELLED);
        assertThat(cancelled.status().finishedAt()).isEqualTo(asked.plus(GRACE));
        assertThat(cancelled.cancelRequestedBy()).isEqualTo("ops-2");
        assertThat(cancelled.version()).as("written over the version read").isEqualTo(requested.version());
    }

    @Test
    @DisplayName("a rotation left storing is shown unknown, never guessed, once its replica could no longer have read it back")
    void showsAnAbandonedStoreAsUnknown() {
        RotationRecord storing = record(State.STORING, null, List.of());
        Instant readBackOver = DEADLINE.plus(PROOF_TIMEOUT).plus(GRACE);
        assertThat(storing.overdue(readBackOver.minusMillis(1), POLICY)).isEmpty();

        RotationStatus unknown = storing.overdue(readBackOver, POLICY).orElseThrow().status();
        assertThat(unknown.state()).isEqualTo(State.UNKNOWN);
        assertThat(unknown.errorCode()).isEqualTo("outcome_unknown");
        assertThat(unknown.finishedAt()).isNull();
        assertThat(record(State.UNKNOWN, "outcome_unknown", List.of()).overdue(readBackOver.plus(PROOF_TIMEOUT),
                POLICY)).as("already unknown: nothing more to say").isEmpty();
    }

    @Test
    @DisplayName("an ended rotation is never rewritten")
    void leavesEndedRotationsAlone() {
        Instant late = DEADLINE.plus(Duration.ofDays(1));
        for (State end : List.of(State.COMPLETED, State.FAILED, State.CANCELLED)) {
            assertThat(record(end, null, List.of()).overdue(late, POLICY)).as(end.label()).isEqualTo(Optional.empty());
        }
    }

    private static RotationRecord record(State state, String errorCode, List<Integer> codes) {
        return new RotationRecord(new RotationStatus("0f8fad5b-d9cb-469f-a165-70867728950e", "lab", Action.ROTATE,
                state, 1, null, state == State.COMPLETED ? 2 : null, errorCode, codes, 3, START, DEADLINE,
                state.isEnd() ? START.plusSeconds(40) : null, false), "ops", "req-1", null, null, 4);
    }
}
