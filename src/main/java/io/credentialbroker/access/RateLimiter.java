package io.credentialbroker.access;

import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.credentialbroker.config.BrokerConfig;
import io.credentialbroker.config.InvalidConfigurationException;

/**
 * A token bucket per caller on the token endpoint: each caller has its own, so one noisy caller
 * runs out alone. Only callers that passed the grant check get a bucket, so their number is bounded
 * by the grants.
 */
@ApplicationScoped
public class RateLimiter {

    private final double perSecond;
    private final int burst;
    private final Clock clock;
    private final ConcurrentMap<String, Bucket> buckets = new ConcurrentHashMap<>();

    @Inject
    RateLimiter(BrokerConfig config, Clock clock) {
        this(config.rateLimit().tokenRequestsPerSecond(), config.rateLimit().tokenBurst(), clock);
    }

    RateLimiter(double perSecond, int burst, Clock clock) {
        if (!(perSecond > 0) || burst < 1) {
            throw new InvalidConfigurationException(java.util.List.of(
                    "broker.rate-limit: token-requests-per-second must be above 0 and token-burst at least 1"));
        }
        this.perSecond = perSecond;
        this.burst = burst;
        this.clock = clock;
    }

    /** Takes one request from the caller's bucket; empty if allowed, else how long until one is. */
    public Optional<Duration> acquire(Caller caller) {
        return buckets.computeIfAbsent(caller.name(), ignored -> new Bucket(burst, clock.millis()))
                .take(clock.millis());
    }

    private final class Bucket {

        private double tokens;
        private long refilledAt;

        Bucket(double tokens, long now) {
            this.tokens = tokens;
            this.refilledAt = now;
        }

        synchronized Optional<Duration> take(long now) {
            if (now > refilledAt) {
                tokens = Math.min(burst, tokens + (now - refilledAt) / 1000.0 * perSecond);
                refilledAt = now;
            }
            if (tokens >= 1) {
                tokens -= 1;
                return Optional.empty();
            }
            return Optional.of(Duration.ofMillis((long) Math.ceil((1 - tokens) / perSecond * 1000)));
        }
    }
}
