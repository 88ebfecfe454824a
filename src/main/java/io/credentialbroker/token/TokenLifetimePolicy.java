package io.credentialbroker.token;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import io.credentialbroker.config.BrokerConfig.TokenConfig;
import io.credentialbroker.config.InvalidConfigurationException;

/**
 * When a token may be handed out, for how long callers may rely on it, and when the cache should
 * start replacing it. Kept apart from the cache so the arithmetic can be checked on its own.
 *
 * @param refreshBefore
 *            refresh this long before expiry when Azure AD gives no {@code refresh_in}
 * @param minRemaining
 *            never hand out a token with less life than this
 * @param maxClientTtl
 *            the most {@code expires_in} a caller is told
 * @param clockSkew
 *            taken off every token's life for the clocks of Azure AD, broker and caller
 */
public record TokenLifetimePolicy(Duration refreshBefore, Duration minRemaining, Duration maxClientTtl,
        Duration clockSkew) {

    public TokenLifetimePolicy {
        List<String> problems = new ArrayList<>();
        requirePositive("broker.token.min-remaining", minRemaining, problems);
        requirePositive("broker.token.max-client-ttl", maxClientTtl, problems);
        if (refreshBefore.isNegative() || clockSkew.isNegative()) {
            problems.add("broker.token.refresh-before and broker.token.clock-skew must not be negative");
        }
        if (maxClientTtl.compareTo(minRemaining) < 0) {
            problems.add(
                    "broker.token.max-client-ttl (" + maxClientTtl + ") must be at least broker.token.min-remaining ("
                            + minRemaining + "): callers would be told a token lasts less than the broker guarantees");
        }
        if (!problems.isEmpty()) {
            throw new InvalidConfigurationException(problems);
        }
    }

    public static TokenLifetimePolicy from(TokenConfig config) {
        return new TokenLifetimePolicy(config.refreshBefore(), config.minRemaining(), config.maxClientTtl(),
                config.clockSkew());
    }

    private static void requirePositive(String key, Duration value, List<String> problems) {
        if (value.isNegative() || value.isZero()) {
            problems.add(key + " must be positive");
        }
    }

    /** Whether the token can still be handed out at {@code now}. */
    public boolean isServable(AccessToken token, Instant now) {
        return token.isValidFor(now, minRemaining.plus(clockSkew));
    }

    /**
     * The {@code expires_in} a caller is told: the token's life after skew, capped by
     * {@code max-client-ttl}, in whole seconds rounded down so it never overstates.
     */
    public Duration clientLifetime(AccessToken token, Instant now) {
        Duration life = token.remaining(now).minus(clockSkew);
        Duration capped = life.compareTo(maxClientTtl) > 0 ? maxClientTtl : life;
        return Duration.ofSeconds(Math.max(0, capped.getSeconds()));
    }

    /**
     * Builds the cached token for what Azure AD issued. Its lifetime counts from when the request was
     * sent, so time spent on the wire only shortens it. Refresh starts at {@code refresh_in} when Azure
     * AD sent one, else {@code refresh-before} ahead of expiry, moved earlier by {@code jitter} (a
     * fraction in [0, 1) of 5% of the span) so many environments do not refresh together; never before
     * a quarter of the lifetime, so a short-lived token cannot make the cache refresh in a loop.
     */
    public AccessToken accept(String environment, int credentialVersion, MintResult.Issued issued, Instant sentAt,
            double jitter) {
        Duration lifetime = issued.expiresIn();
        Instant expiresAt = sentAt.plus(lifetime);
        Instant servableUntil = expiresAt.minus(minRemaining).minus(clockSkew);
        Instant nominal = issued.refreshIn().filter(in -> !in.isNegative() && !in.isZero()).map(sentAt::plus)
                .orElse(expiresAt.minus(refreshBefore));
        // a refresh_in past the point where the token stops being servable would leave callers a gap
        nominal = earliest(nominal, servableUntil);
        Duration span = Duration.between(sentAt, nominal);
        Instant jittered = span.isNegative() ? nominal : nominal.minusMillis((long) (span.toMillis() * 0.05 * jitter));
        Instant floor = sentAt.plus(lifetime.dividedBy(4));
        Instant refreshAt = jittered.isBefore(floor) ? floor : jittered;
        return new AccessToken(issued.accessToken(), environment, credentialVersion, sentAt, expiresAt, refreshAt);
    }

    private static Instant earliest(Instant a, Instant b) {
        return a.isBefore(b) ? a : b;
    }

    /** Whether a freshly issued token would be servable at all; one that is not must not be cached. */
    public boolean isUsefulLifetime(Duration lifetime) {
        return lifetime.compareTo(minRemaining.plus(clockSkew)) > 0;
    }
}
