package io.credentialbroker.token;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

import io.credentialbroker.config.BrokerConfig.TokenConfig;

/**
 * How hard the cache tries Azure AD: a few quick jittered retries within one mint for transient
 * failures, then a longer quiet period after a mint fails for good, so a fleet of brokers never
 * turns an outage into a storm.
 *
 * @param maxRetries
 *            retries within one mint after a transient failure
 * @param retryBackoff
 *            the first retry's nominal pause; each later one doubles it
 * @param failureBackoff
 *            the least time between failed mints
 * @param maxWait
 *            how long a caller waits for a mint in flight
 */
public record RetryPolicy(int maxRetries, Duration retryBackoff, Duration failureBackoff, Duration maxWait) {

    public static RetryPolicy from(TokenConfig config) {
        return new RetryPolicy(config.maxRetries(), config.retryBackoff(), config.failureBackoff(), config.maxWait());
    }

    /** Pause before retry {@code n} (1-based): "equal jitter", between half and all of the nominal. */
    Duration backoffBeforeRetry(int n) {
        long nominal = retryBackoff.toMillis() << Math.min(n - 1, 10);
        return Duration.ofMillis(nominal / 2 + ThreadLocalRandom.current().nextLong(nominal / 2 + 1));
    }

    /**
     * Quiet period after a token from the wrong tenant. It is a configuration error, not an outage:
     * asking again every {@code failure-backoff} would only repeat the refusal. A new credential
     * version (a rotation, or the watch finding one stored in Vault) ends the quiet period at once.
     */
    static final Duration TENANT_MISMATCH_BACKOFF = Duration.ofMinutes(5);

    /**
     * Quiet period after a failed mint: the failure backoff plus up to 10% jitter, or what the upstream
     * asked for if that is longer; {@link #TENANT_MISMATCH_BACKOFF} after a token from the wrong
     * tenant, and after an app+user grant that needs a person (no consent, a refused one, no MFA):
     * installing a new consent ends that at once.
     */
    Duration backoffAfterFailure(TokenFailure failure) {
        if (failure.reason() == TokenFailure.Reason.TENANT_MISMATCH
                || failure.reason() == TokenFailure.Reason.CONSENT_REQUIRED
                || failure.reason() == TokenFailure.Reason.MFA_REQUIRED) {
            return TENANT_MISMATCH_BACKOFF;
        }
        return backoffAfterFailure(failure.retryAfter());
    }

    private Duration backoffAfterFailure(Optional<Duration> retryAfter) {
        long base = failureBackoff.toMillis();
        Duration jittered = Duration.ofMillis(base + ThreadLocalRandom.current().nextLong(base / 10 + 1));
        return retryAfter.filter(asked -> asked.compareTo(jittered) > 0).orElse(jittered);
    }
}
