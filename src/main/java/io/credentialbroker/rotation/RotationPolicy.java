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

    private static void requirePositive(String key, Duration value, List<String> problems) {
        if (value == null || value.isNegative() || value.isZero()) {
            problems.add(key + " must be positive");
        }
    }
}
