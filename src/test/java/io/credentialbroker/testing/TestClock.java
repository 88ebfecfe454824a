package io.credentialbroker.testing;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;

import jakarta.annotation.Priority;
import jakarta.enterprise.inject.Alternative;
import jakarta.inject.Singleton;

/**
 * The application's clock in tests: real time plus an offset that tests move forward, so expiry,
 * refresh points and Retry-After are driven by ticking, never by sleeping; a test that must not see
 * real time pass at all can freeze it. The offset only grows; a test that needs a cold cache moves
 * past every token and every backoff left by earlier tests.
 */
@Alternative
@Priority(1)
@Singleton
public class TestClock extends Clock {

    private final AtomicReference<Duration> offset = new AtomicReference<>(Duration.ZERO);
    /** When set, time stands still there (plus the offset) instead of following real time. */
    private final AtomicReference<Instant> frozenAt = new AtomicReference<>();

    /** Stops real time: from now on only {@link #advance} moves this clock. */
    public void freeze() {
        frozenAt.set(Instant.now());
    }

    public void unfreeze() {
        frozenAt.set(null);
    }

    public void advance(Duration by) {
        offset.accumulateAndGet(by, Duration::plus);
    }

    /** Moves past any token and backoff earlier tests may have left, so caches are cold again. */
    public void moveToNewDay() {
        advance(Duration.ofDays(1));
    }

    @Override
    public Instant instant() {
        Instant frozen = frozenAt.get();
        return (frozen == null ? Instant.now() : frozen).plus(offset.get());
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        throw new UnsupportedOperationException("the test clock is UTC only");
    }
}
