package io.credentialbroker.health;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Liveness;

import io.credentialbroker.config.BrokerConfig;
import io.netty.util.concurrent.EventExecutor;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;

/**
 * Alive while every event loop and the worker pool keep running small heartbeat tasks: a loop or
 * pool wedged longer than {@code broker.health.stall-threshold} means "restart me" (case 39). No
 * dependency is looked at: a Vault or Azure AD outage must never restart pods.
 */
@Liveness
@ApplicationScoped
public class EventLoopLiveness implements HealthCheck {

    private static final long BEAT_MILLIS = 500;

    private final Vertx vertx;
    private final long thresholdNanos;
    private final List<AtomicLong> loopBeats = new ArrayList<>();
    private final AtomicLong workerBeat = new AtomicLong(System.nanoTime());

    EventLoopLiveness(Vertx vertx, BrokerConfig config) {
        this.vertx = vertx;
        this.thresholdNanos = config.health().stallThreshold().toNanos();
    }

    void start(@Observes StartupEvent event) {
        for (EventExecutor loop : vertx.nettyEventLoopGroup()) {
            AtomicLong beat = new AtomicLong(System.nanoTime());
            synchronized (loopBeats) {
                loopBeats.add(beat);
            }
            loop.scheduleAtFixedRate(() -> beat.set(System.nanoTime()), 0, BEAT_MILLIS, TimeUnit.MILLISECONDS);
        }
        vertx.setPeriodic(BEAT_MILLIS, id -> vertx.executeBlocking(() -> {
            workerBeat.set(System.nanoTime());
            return null;
        }, false));
    }

    @Override
    public HealthCheckResponse call() {
        long now = System.nanoTime();
        HealthCheckResponseBuilder response = HealthCheckResponse.named("event-loops-and-workers");
        boolean alive = true;
        List<AtomicLong> beats;
        synchronized (loopBeats) {
            beats = List.copyOf(loopBeats);
        }
        for (int i = 0; i < beats.size(); i++) {
            long silent = now - beats.get(i).get();
            if (silent > thresholdNanos) {
                alive = false;
                response.withData("event_loop_" + i + "_stalled_ms", Duration.ofNanos(silent).toMillis());
            }
        }
        long workerSilent = now - workerBeat.get();
        if (workerSilent > thresholdNanos) {
            alive = false;
            response.withData("worker_pool_stalled_ms", Duration.ofNanos(workerSilent).toMillis());
        }
        return response.status(alive).build();
    }
}
