package io.credentialbroker.rotation;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

import io.credentialbroker.config.BrokerConfig.RotationConfig;
import io.credentialbroker.config.InvalidConfigurationException;

/**
 * The timing of rotations and of the watch for rotations done elsewhere (see
 * {@link RotationConfig}); checked once at startup.
 *
 * @param proofTimeout
 *            how long a rotation keeps proving before it fails
 * @param syncWindow
 *            how long a rotation request waits for the outcome before answering 202
 * @param retryInterval
 *            the nominal pause between proof attempts
 * @param watchInterval
 *            how often each environment's current version is compared with the one in use
 * @param retention
 *            how long a finished rotation can be looked up
 */
public record RotationPolicy(Duration proofTimeout, Duration syncWindow, Duration retryInterval,
        Duration watchInterval, Duration retention) {

    private static final long SLACK_SECONDS = 60;

    public RotationPolicy {
        List<String> problems = new ArrayList<>();
        requirePositive("broker.rotation.proof-timeout", proofTimeout, problems);
        requirePositive("broker.rotation.sync-window", syncWindow, problems);
        requirePositive("broker.rotation.retry-interval", retryInterval, problems);
        requirePositive("broker.rotation.watch-interval", watchInterval, problems);
        requirePositive("broker.rotation.retention", retention, problems);
        if (!problems.isEmpty()) {
            throw new InvalidConfigurationException(problems);
        }
    }

    public static RotationPolicy from(RotationConfig config) {
        return new RotationPolicy(config.proofTimeout(), config.syncWindow(), config.retryInterval(),
                config.watchInterval(), config.retention());
    }

    /**
     * The pause before the next proof attempt: between half and all of {@code retry-interval} ("equal
     * jitter", so replicas and environments do not ask the tenant in step), or Azure AD's
     * {@code Retry-After} if that is longer.
     */
    public Duration pauseBeforeNextAttempt(Optional<Duration> retryAfter) {
        long nominal = retryInterval.toMillis();
        Duration jittered = Duration.ofMillis(nominal / 2 + ThreadLocalRandom.current().nextLong(nominal / 2 + 1));
        return retryAfter.filter(asked -> asked.compareTo(jittered) > 0).orElse(jittered);
    }

    /**
     * How long past the moment a rotation's replica should have moved its record on (its deadline, or a
     * cancel written into it) any replica may settle the record itself: one {@code retry-interval} for
     * the replica's next attempt, plus {@value #SLACK_SECONDS} s for an attempt in flight and for
     * clocks that differ between pods. A replica that is still there by then finds the record settled
     * and ends its rotation the same way.
     */
    public Duration settleAfter() {
        return retryInterval.plusSeconds(SLACK_SECONDS);
    }

    /**
     * The pause before the next proof attempt ({@link #pauseBeforeNextAttempt}), but never past the
     * deadline: the attempt then ends the rotation on time, however long Azure AD asked to wait.
     */
    public Duration pauseWithin(Optional<Duration> retryAfter, Duration untilDeadline) {
        Duration pause = pauseBeforeNextAttempt(retryAfter);
        Duration left = untilDeadline.isNegative() ? Duration.ZERO : untilDeadline;
        return pause.compareTo(left) > 0 ? left : pause;
    }

    private static void requirePositive(String key, Duration value, List<String> problems) {
        if (value == null || value.isNegative() || value.isZero()) {
            problems.add(key + " must be positive");
        }
    }
}
