package io.credentialbroker.access;

import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;

import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import io.credentialbroker.config.BrokerConfig;
import io.credentialbroker.config.InvalidConfigurationException;

/**
 * A token bucket per caller, taken from by token requests and by denied requests of any kind: each
 * caller has its own, so one noisy caller runs out alone. Callers are verified identities (the
 * issuer's service accounts), never a name a request makes up; a bucket that has refilled is the
 * same as none, so above {@value #PRUNE_ABOVE} callers those are forgotten.
 *
 * <p>
 * Each bucket is kept as the generic cell rate algorithm keeps it, one number per caller (the
 * theoretical arrival time of the next request) updated by compare-and-set: the same admissions as
 * a bucket of {@code burst} tokens refilled at {@code perSecond}, without a lock that the event
 * loops would contend for under one busy caller.
 */
@Singleton
public class RateLimiter {

    private static final long NANOS_PER_MILLI = 1_000_000L;
    private static final int PRUNE_ABOVE = 10_000;

    /** Time one request uses up: 1 / rate. */
    private final long intervalNanos;
    /** How far ahead of now the next arrival time may run: (burst - 1) intervals. */
    private final long toleranceNanos;
    private final Clock clock;
    private final ConcurrentMap<String, AtomicLong> nextArrival = new ConcurrentHashMap<>();

    @Inject
    RateLimiter(BrokerConfig config, Clock clock) {
        this(config.rateLimit().tokenRequestsPerSecond(), config.rateLimit().tokenBurst(), clock);
    }

    RateLimiter(double perSecond, int burst, Clock clock) {
        if (!(perSecond > 0) || burst < 1) {
            throw new InvalidConfigurationException(java.util.List.of(
                    "broker.rate-limit: token-requests-per-second must be above 0 and token-burst at least 1"));
        }
        this.intervalNanos = Math.max(1, Math.round(1e9 / perSecond));
        this.toleranceNanos = (burst - 1) * intervalNanos;
        this.clock = clock;
    }

    /** Takes one request from the caller's bucket; empty if allowed, else how long until one is. */
    public Optional<Duration> acquire(Caller caller) {
        AtomicLong arrival = nextArrival.get(caller.name());
        if (arrival == null) {
            if (nextArrival.size() >= PRUNE_ABOVE) {
                prune();
            }
            arrival = nextArrival.computeIfAbsent(caller.name(), ignored -> new AtomicLong(Long.MIN_VALUE));
        }
        long now = clock.millis() * NANOS_PER_MILLI;
        while (true) {
            long current = arrival.get();
            long due = Math.max(current, now);
            long ahead = due - now;
            if (ahead > toleranceNanos) {
                long waitNanos = ahead - toleranceNanos;
                return Optional.of(Duration.ofMillis((waitNanos + NANOS_PER_MILLI - 1) / NANOS_PER_MILLI));
            }
            if (arrival.compareAndSet(current, due + intervalNanos)) {
                return Optional.empty();
            }
        }
    }

    /** Forgets full buckets: their next arrival time has passed, so they admit as a new one would. */
    private void prune() {
        long now = clock.millis() * NANOS_PER_MILLI;
        nextArrival.values().removeIf(arrival -> arrival.get() <= now);
    }
}
