package io.credentialbroker.rotation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import io.credentialbroker.config.InvalidConfigurationException;

class RotationPolicyTest {

    private static final Duration RETRY = Duration.ofSeconds(15);

    private final RotationPolicy policy = new RotationPolicy(Duration.ofMinutes(10), Duration.ofSeconds(5), RETRY,
            Duration.ofSeconds(30), Duration.ofHours(1));

    @Test
    void pausesBetweenHalfAndAllOfTheRetryIntervalBetweenAttempts() {
        for (int i = 0; i < 1000; i++) {
            assertThat(policy.pauseBeforeNextAttempt(Optional.empty())).isBetween(RETRY.dividedBy(2), RETRY);
        }
    }

    @Test
    void honoursALongerRetryAfter() {
        assertThat(policy.pauseBeforeNextAttempt(Optional.of(Duration.ofSeconds(60))))
                .isEqualTo(Duration.ofSeconds(60));
        assertThat(policy.pauseBeforeNextAttempt(Optional.of(Duration.ofSeconds(1)))).isGreaterThanOrEqualTo(
                RETRY.dividedBy(2));
    }

    @Test
    void neverPausesPastTheDeadlineHoweverLongAzureAdAsks() {
        assertThat(policy.pauseWithin(Optional.of(Duration.ofMinutes(30)), Duration.ofSeconds(40)))
                .isEqualTo(Duration.ofSeconds(40));
        assertThat(policy.pauseWithin(Optional.of(Duration.ofSeconds(60)), Duration.ofMinutes(5)))
                .isEqualTo(Duration.ofSeconds(60));
        assertThat(policy.pauseWithin(Optional.empty(), Duration.ofSeconds(-3))).isEqualTo(Duration.ZERO);
    }

    @Test
    void leavesARotationsReplicaOneRetryIntervalAndAMinuteBeforeOthersSettleIt() {
        assertThat(policy.settleAfter()).isEqualTo(RETRY.plusMinutes(1));
    }

    @Test
    void refusesDurationsThatAreNotPositiveNamingEveryKey() {
        InvalidConfigurationException invalid = catchThrowableOfType(InvalidConfigurationException.class,
                () -> new RotationPolicy(Duration.ZERO, Duration.ofSeconds(-1), RETRY, Duration.ZERO,
                        Duration.ofHours(1)));

        assertThat(invalid.problems()).containsExactly("broker.rotation.proof-timeout must be positive",
                "broker.rotation.sync-window must be positive", "broker.rotation.watch-interval must be positive");
    }
}
