package io.credentialbroker.access;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

import io.credentialbroker.audit.AuditEvent;
import io.credentialbroker.audit.AuditLog;

/**
 * Keeps a caller that goes on asking past its rate limit from flooding the audit trail: per caller,
 * the first refusal for the rate limit is written, and further ones within {@link #INTERVAL} of it
 * are left out and counted (metric {@code broker_audit_events_suppressed_total}); the next refusal
 * written for that caller says how many were left out ({@code suppressed_events}). Refusals under
 * the limit (a denial, a granted token) are each written as before: the rate limit bounds those.
 */
final class ThrottledAudit {

    /** At most one rate-limit line per caller this often. */
    static final Duration INTERVAL = Duration.ofMinutes(1);
    /** Above this many callers tracked, those with nothing left to report are forgotten. */
    private static final int PRUNE_ABOVE = 10_000;

    private final AuditLog audit;
    private final Clock clock;
    private final ConcurrentMap<String, Stretch> stretches = new ConcurrentHashMap<>();

    /** One caller's refusals since its last written one. */
    private static final class Stretch {

        Instant lastWritten;
        long suppressed;
    }

    ThrottledAudit(AuditLog audit, Clock clock) {
        this.audit = audit;
        this.clock = clock;
    }

    /**
     * Records {@code event}, a refusal of {@code caller} for the rate limit, unless one was written
     * lately.
     */
    void record(String caller, AuditEvent event) {
        Instant now = clock.instant();
        Stretch stretch = stretches.computeIfAbsent(caller, ignored -> new Stretch());
        long leftOut;
        synchronized (stretch) {
            if (stretch.lastWritten != null && now.isBefore(stretch.lastWritten.plus(INTERVAL))) {
                stretch.suppressed++;
                audit.suppressed();
                return;
            }
            leftOut = stretch.suppressed;
            stretch.suppressed = 0;
            stretch.lastWritten = now;
        }
        audit.record(leftOut > 0 ? event.withSuppressedEvents(leftOut) : event);
        if (stretches.size() > PRUNE_ABOVE) {
            prune(now);
        }
    }

    /** Forgets callers whose last line is older than the interval and who have nothing to report. */
    private void prune(Instant now) {
        stretches.entrySet().removeIf(entry -> {
            Stretch stretch = entry.getValue();
            synchronized (stretch) {
                return stretch.suppressed == 0 && stretch.lastWritten != null
                        && !now.isBefore(stretch.lastWritten.plus(INTERVAL));
            }
        });
    }
}
