package io.credentialbroker.token;

import java.time.Duration;
import java.util.Objects;

/**
 * No token that may be handed out can be had for an environment now; try again after
 * {@link #retryAfter()}.
 */
public class TokenUnavailableException extends RuntimeException {

    private final String environment;
    private final TokenFailure.Reason reason;
    private final Duration retryAfter;

    public TokenUnavailableException(String environment, TokenFailure.Reason reason, Duration retryAfter) {
        super("no token available for environment '" + environment + "': " + reason.code(), null, false, false);
        this.environment = Objects.requireNonNull(environment, "environment");
        this.reason = Objects.requireNonNull(reason, "reason");
        this.retryAfter = Objects.requireNonNull(retryAfter, "retryAfter");
    }

    public String environment() {
        return environment;
    }

    public TokenFailure.Reason reason() {
        return reason;
    }

    /** At least one second: a caller told to retry now would only add load. */
    public Duration retryAfter() {
        return retryAfter;
    }
}
