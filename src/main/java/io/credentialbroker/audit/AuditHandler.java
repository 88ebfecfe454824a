package io.credentialbroker.audit;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The audit category's own handler: writes each record's message, an audit event's JSON line, as it
 * is, followed by a newline, to standard output. Nothing else is added (no level, thread or MDC).
 *
 * <p>
 * Writing happens on one thread of its own, from a bounded queue, so a stalled log pipe never
 * blocks an event loop serving requests. Handing an event over takes no lock and, while events keep
 * coming, no wake-up call: the writer, once it finds the queue empty, looks again every
 * {@value #BUSY_POLL_MICROS} µs for {@value #IDLE_AFTER_POLLS} polls before it sleeps until the
 * next event wakes it. (A blocking queue signalled the writer for nearly every event on the token
 * path: a lock and a thread wake-up per request.) When the queue is full the event cannot be kept:
 * it is counted ({@link #dropped()}, metric {@code broker_audit_events_dropped_total}), and as soon
 * as the writer gets through again it writes an {@code audit.overflow} event saying how many were
 * lost, and logs a warning. Blocking the caller instead (back-pressure) would stall the event loop
 * on exactly the stalled pipe this is about, and with it every request and the liveness heartbeat;
 * the queue ({@value #CAPACITY} lines, about two seconds of the bench's full load) absorbs ordinary
 * hiccups, so an overflow means the pipe stalled for longer, and the trail says so.
 */
public final class AuditHandler extends Handler {

    static final int CAPACITY = 65_536;
    private static final int BATCH = 512;
    private static final long BUSY_POLL_MICROS = 500;
    /** Empty polls in a row (about 50 ms) after which the writer sleeps until an event wakes it. */
    private static final int IDLE_AFTER_POLLS = 100;
    private static final org.jboss.logging.Logger DIAGNOSTICS = org.jboss.logging.Logger.getLogger(AuditHandler.class);
    private static final AuditHandler INSTANCE = new AuditHandler();

    private final Queue<String> queue = new ConcurrentLinkedQueue<>();
    /** Events in {@link #queue}: the bound, kept without a lock. */
    private final AtomicInteger size = new AtomicInteger();
    private final Thread writer;
    /** Set by the writer before it sleeps until woken; whoever hands over an event then wakes it. */
    private volatile boolean sleeping;
    private final AtomicLong queued = new AtomicLong();
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    /** Events left out on purpose (a throttled caller's refusals), each summed in a later event. */
    private final AtomicLong suppressed = new AtomicLong();
    /** Dropped events not yet reported in the trail. */
    private final AtomicLong unreported = new AtomicLong();
    private final List<Consumer<String>> taps = new CopyOnWriteArrayList<>();
    private volatile Clock clock = Clock.systemUTC();

    private AuditHandler() {
        writer = new Thread(this::writeForever, "audit-writer");
        writer.setDaemon(true);
        writer.start();
    }

    /**
     * Makes the one handler the only one of {@code category} (no parent handlers), once per JVM however
     * often the application starts.
     */
    static AuditHandler install(String category, Clock clock) {
        INSTANCE.clock = clock;
        Logger logger = Logger.getLogger(category);
        logger.setUseParentHandlers(false);
        for (Handler handler : logger.getHandlers()) {
            if (handler == INSTANCE) {
                return INSTANCE;
            }
        }
        logger.addHandler(INSTANCE);
        return INSTANCE;
    }

    @Override
    public void publish(LogRecord record) {
        if (record == null || !isLoggable(record)) {
            return;
        }
        if (size.incrementAndGet() <= CAPACITY) {
            queue.offer(record.getMessage());
            queued.incrementAndGet();
            if (sleeping) {
                sleeping = false;
                LockSupport.unpark(writer);
            }
        } else {
            size.decrementAndGet();
            dropped.incrementAndGet();
            unreported.incrementAndGet();
        }
    }

    /**
     * The handler of the audit category: for the metric of dropped events, which must not reach it
     * through a CDI proxy (a test JVM runs several applications one after the other), and for tests
     * that read the trail as it is written.
     */
    public static AuditHandler instance() {
        return INSTANCE;
    }

    /**
     * Events that could not be queued for writing since the process started (each also reported in the
     * trail).
     */
    public long dropped() {
        return dropped.get();
    }

    /**
     * Events left out of the trail on purpose since the process started (metric
     * {@code broker_audit_events_suppressed_total}).
     */
    public long suppressed() {
        return suppressed.get();
    }

    void countSuppressed() {
        suppressed.incrementAndGet();
    }

    /**
     * Calls {@code tap} with the text of every write right after it went to standard output, exactly as
     * written (one or more lines, each ended by its newline): how tests read the trail as production
     * writes it.
     */
    public void tap(Consumer<String> tap) {
        taps.add(tap);
    }

    public void untap(Consumer<String> tap) {
        taps.remove(tap);
    }

    /** Waits, at most {@code timeout}, until every line queued so far is written. */
    public boolean flush(Duration timeout) {
        long target = queued.get();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (written.get() < target) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
        return true;
    }

    @Override
    public void flush() {
        flush(Duration.ofSeconds(5));
    }

    @Override
    public void close() {
        flush();
    }

    /** The next event, waiting for one as the class says; null once the thread is interrupted. */
    private String next() {
        int emptyPolls = 0;
        while (!Thread.currentThread().isInterrupted()) {
            String line = queue.poll();
            if (line != null) {
                return line;
            }
            if (++emptyPolls < IDLE_AFTER_POLLS) {
                LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(BUSY_POLL_MICROS));
                continue;
            }
            sleeping = true;
            // an event handed over between the last poll and the flag above did not wake anyone
            line = queue.poll();
            if (line != null) {
                sleeping = false;
                return line;
            }
            LockSupport.park(this);
            sleeping = false;
            emptyPolls = 0;
        }
        return null;
    }

    private void writeForever() {
        List<String> batch = new ArrayList<>(BATCH);
        StringBuilder text = new StringBuilder(BATCH * 256);
        while (true) {
            int events = 0;
            try {
                String first = next();
                if (first == null) {
                    return; // interrupted: the JVM is going away
                }
                batch.add(first);
                for (String line; batch.size() < BATCH && (line = queue.poll()) != null;) {
                    batch.add(line);
                }
                size.addAndGet(-batch.size());
                events = batch.size();
                long lost = unreported.getAndSet(0);
                if (lost > 0) {
                    batch.add(AuditLog.line(AuditEvent.overflow(clock.instant(), lost)));
                }
                text.setLength(0);
                for (String line : batch) {
                    text.append(line).append('\n');
                }
                PrintStream out = System.out;
                byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
                out.write(bytes, 0, bytes.length);
                out.flush();
                if (lost > 0) {
                    DIAGNOSTICS.warnf("The audit queue was full: %d audit events could not be written (an"
                            + " audit.overflow event in the trail says so)", lost);
                }
                String writtenText = text.toString();
                for (Consumer<String> tap : taps) {
                    tap.accept(writtenText);
                }
                written.addAndGet(events);
                batch.clear();
            } catch (RuntimeException e) {
                // never let the writer die: the next batch tries again; these events are counted as lost
                dropped.addAndGet(events);
                DIAGNOSTICS.errorf("Writing %d audit events failed: %s", events, e.getClass().getName());
                written.addAndGet(events);
                batch.clear();
            }
        }
    }
}
