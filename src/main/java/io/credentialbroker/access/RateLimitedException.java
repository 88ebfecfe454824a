package io.credentialbroker.access;

import java.time.Duration;

/** A caller went past its rate limit; it may try again after {@link #retryAfter()}. */
public class RateLimitedException extends RuntimeException {

    private final Duration retryAfter;

    public RateLimitedException(Duration retryAfter) {
        super("rate limit exceeded", null, false, false);
        this.retryAfter = retryAfter;
    }

    public Duration retryAfter() {
        return retryAfter;
    }
}
