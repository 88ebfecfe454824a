package io.credentialbroker.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.LogRecord;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The audit writer: every event handed over is written once, in order, whether the writer was busy
 * or asleep; a stalled output costs the callers nothing, and what could not be kept is counted and
 * reported in the trail once writing resumes.
 */
class AuditHandlerTest {

    private static final Duration WITHIN = Duration.ofSeconds(10);

    private final AuditHandler handler = AuditHandler.instance();
    private final List<String> written = new CopyOnWriteArrayList<>();
    private final Consumer<String> tap = written::add;

    @BeforeEach
    void tapTheWriter() {
        assertThat(handler.flush(WITHIN)).isTrue();
        handler.tap(tap);
    }

    @AfterEach
    void untap() {
        handler.untap(tap);
    }

    @Test
    @DisplayName("events from many threads are all written, each once, each thread's in its order")
    void writesEveryEventOnceInOrder() throws Exception {
        int threads = 4;
        int each = 10_000; // together well below the queue's capacity: nothing here may be dropped
        long droppedBefore = handler.dropped();
        List<Thread> callers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            callers.add(new Thread(() -> {
                for (int i = 0; i < each; i++) {
                    publish("{\"t\":" + thread + ",\"i\":" + i + "}");
                }
            }));
        }
        callers.forEach(Thread::start);
        for (Thread caller : callers) {
            caller.join(WITHIN.toMillis());
        }
        assertThat(handler.flush(WITHIN)).isTrue();

        int[] next = new int[threads];
        for (String line : lines()) {
            if (!line.startsWith("{\"t\":")) {
                continue; // another test's event
            }
            int thread = line.charAt(5) - '0';
            assertThat(line).isEqualTo("{\"t\":" + thread + ",\"i\":" + next[thread] + "}");
            next[thread]++;
        }
        assertThat(handler.dropped() - droppedBefore).as("events dropped").isZero();
        assertThat(next).containsOnly(each);
    }

    @Test
    @DisplayName("an event handed over after the writer went to sleep wakes it: written within moments, not at the next event")
    void anEventWakesASleepingWriter() throws Exception {
        publish("{\"first\":true}");
        assertThat(handler.flush(WITHIN)).isTrue();
        Thread.sleep(300); // past the writer's polling: it sleeps until woken
        for (int i = 0; i < 50; i++) {
            publish("{\"woken\":" + i + "}");
            assertThat(handler.flush(Duration.ofSeconds(2))).as("event %d", i).isTrue();
            Thread.sleep(i % 10 == 0 ? 120 : 1);
        }
        assertThat(lines()).filteredOn(line -> line.startsWith("{\"woken\":")).hasSize(50);
    }

    @Test
    @DisplayName("a stalled output: callers are never blocked, the events beyond the queue are counted, and an audit.overflow event says so once writing resumes")
    void aStalledOutputCostsCallersNothingAndIsReported() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch stalled = new CountDownLatch(1);
        PrintStream out = System.out;
        System.setOut(new PrintStream(new OutputStream() {

            @Override
            public void write(int b) {
                write(new byte[]{(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] bytes, int offset, int length) {
                stalled.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                out.write(bytes, offset, length);
            }
        }, true));
        long droppedBefore = handler.dropped();
        int beyond = 25;
        try {
            publish("{\"stalls\":true}");
            assertThat(stalled.await(10, TimeUnit.SECONDS)).isTrue();
            long started = System.nanoTime();
            for (int i = 0; i < AuditHandler.CAPACITY + beyond; i++) {
                publish("{\"queued\":" + i + "}");
            }
            assertThat(Duration.ofNanos(System.nanoTime() - started)).as("never blocked on the stalled output")
                    .isLessThan(Duration.ofSeconds(5));
            // (at least: a test application still running in this JVM may audit meanwhile)
            assertThat(handler.dropped() - droppedBefore).isGreaterThanOrEqualTo(beyond);
        } finally {
            release.countDown();
            System.setOut(out);
        }
        assertThat(handler.flush(WITHIN)).isTrue();
        // the events kept are the first ones, in order; those beyond the queue, and no more than an
        // event of another test application running in this JVM could have taken places from, are lost
        List<String> kept = lines().stream().filter(line -> line.startsWith("{\"queued\":")).toList();
        for (int i = 0; i < kept.size(); i++) {
            assertThat(kept.get(i)).isEqualTo("{\"queued\":" + i + "}");
        }
        assertThat(kept.size()).isLessThanOrEqualTo(AuditHandler.CAPACITY)
                .isGreaterThanOrEqualTo((int) (AuditHandler.CAPACITY + beyond - (handler.dropped() - droppedBefore)));
        assertThat(lines()).filteredOn(line -> line.contains("\"action\":\"audit.overflow\"")).isNotEmpty()
                .allSatisfy(line -> assertThat(line).containsPattern("\"dropped_events\":[1-9]"));
        long reported = lines().stream().filter(line -> line.contains("\"action\":\"audit.overflow\""))
                .mapToLong(line -> Long.parseLong(line.replaceAll(".*\"dropped_events\":([0-9]+).*", "$1"))).sum();
        assertThat(reported).as("every dropped event reported").isEqualTo(handler.dropped() - droppedBefore);
    }

    private void publish(String line) {
        handler.publish(new LogRecord(Level.INFO, line));
    }

    private List<String> lines() {
        List<String> lines = new ArrayList<>();
        for (String write : written) {
            for (String line : write.split("\n")) {
                lines.add(line);
            }
        }
        return lines;
    }
}
