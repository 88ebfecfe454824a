package io.credentialbroker.health;

import java.time.Duration;
import java.time.Instant;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Startup;

import io.credentialbroker.config.BrokerConfig;
import io.credentialbroker.environment.Environment;
import io.credentialbroker.environment.EnvironmentRegistry;
import io.credentialbroker.token.TokenService;
import io.credentialbroker.token.TokenStatus;

/**
 * Started once every environment's first credential load and token warm-up has finished, well or
 * badly, or once {@code broker.health.startup-timeout} has passed: a slow or absent Vault delays
 * the start by a bounded time and never gets the pod killed for it (case 38).
 */
@Startup
@ApplicationScoped
@io.quarkus.runtime.Startup // created with the application: the timeout counts from there
public class WarmUpStartup implements HealthCheck {

    private final EnvironmentRegistry environments;
    private final TokenService tokens;
    private final boolean warmUp;
    private final Duration timeout;
    private final Instant started;

    WarmUpStartup(EnvironmentRegistry environments, TokenService tokens, BrokerConfig config) {
        this.environments = environments;
        this.tokens = tokens;
        this.warmUp = config.token().warmUp();
        this.timeout = config.health().startupTimeout();
        this.started = tokens.now();
    }

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder response = HealthCheckResponse.named("warm-up");
        boolean done = true;
        for (Environment environment : environments.all()) {
            TokenStatus status = tokens.status(environment.name());
            boolean attempted = !warmUp || status.expiresAt().isPresent() || status.lastFailure().isPresent();
            response.withData(environment.name(), attempted ? "done" : "warming-up");
            done &= attempted;
        }
        boolean timedOut = !done && tokens.now().isAfter(started.plus(timeout));
        if (timedOut) {
            response.withData("timed_out", true);
        }
        return response.status(done || timedOut).build();
    }
}
