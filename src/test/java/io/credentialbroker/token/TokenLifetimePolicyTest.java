package io.credentialbroker.token;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Random;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import io.credentialbroker.config.InvalidConfigurationException;

class TokenLifetimePolicyTest {

    private static final TokenLifetimePolicy DEFAULTS = new TokenLifetimePolicy(Duration.ofMinutes(10),
            Duration.ofMinutes(2), Duration.ofMinutes(10), Duration.ofSeconds(30));
    private static final Instant SENT = Instant.parse("2026-11-24T12:00:00Z");

    @Test
    void refreshesAtRefreshInWhenAzureAdSendsIt() {
        AccessToken token = DEFAULTS.accept("sandbox", 1,
                new MintResult.Issued("t", Duration.ofSeconds(3600), Optional.of(Duration.ofSeconds(1800))), SENT, 0);

        assertThat(token.expiresAt()).isEqualTo(SENT.plusSeconds(3600));
        assertThat(token.refreshAt()).isEqualTo(SENT.plusSeconds(1800));
    }

    @Test
    void refreshesRefreshBeforeExpiryOtherwise() {
        AccessToken token = DEFAULTS.accept("sandbox", 1,
                new MintResult.Issued("t", Duration.ofSeconds(3600), Optional.empty()), SENT, 0);

        assertThat(token.refreshAt()).isEqualTo(SENT.plusSeconds(3000));
    }

    @Test
    void jitterOnlyMovesTheRefreshEarlierByAtMostFivePercent() {
        AccessToken token = DEFAULTS.accept("sandbox", 1,
                new MintResult.Issued("t", Duration.ofSeconds(3600), Optional.empty()), SENT, 0.999);

        assertThat(token.refreshAt()).isBetween(SENT.plusSeconds(3000 - 150), SENT.plusSeconds(3000));
    }

    @Test
    void neverRefreshesBeforeAQuarterOfTheLifetime() {
        // a 5-minute token with refresh-before 10 minutes would otherwise be due at once, forever
        AccessToken token = DEFAULTS.accept("sandbox", 1,
                new MintResult.Issued("t", Duration.ofMinutes(5), Optional.empty()), SENT, 0);

        assertThat(token.refreshAt()).isEqualTo(SENT.plus(Duration.ofSeconds(75)));
    }

    @Test
    void tellsCallersTheLifeLeftAfterSkewCappedByMaxClientTtl() {
        AccessToken token = DEFAULTS.accept("sandbox", 1,
                new MintResult.Issued("t", Duration.ofSeconds(3600), Optional.empty()), SENT, 0);

        assertThat(DEFAULTS.clientLifetime(token, SENT)).isEqualTo(Duration.ofMinutes(10));
        assertThat(DEFAULTS.clientLifetime(token, SENT.plusSeconds(3600 - 300))).isEqualTo(Duration.ofSeconds(270));
    }

    @Test
    void refusesAMaxClientTtlBelowMinRemaining() {
        assertThatThrownBy(() -> new TokenLifetimePolicy(Duration.ofMinutes(10), Duration.ofMinutes(5),
                Duration.ofMinutes(1), Duration.ZERO)).isInstanceOf(InvalidConfigurationException.class)
                .hasMessageContaining("broker.token.max-client-ttl (PT1M) must be at least broker.token.min-remaining");
    }

    @Test
    @DisplayName("case 20: for any issue time, lifetime and skew, no token is handed out with less than min-remaining left")
    void neverHandsOutATokenWithLessThanMinRemaining() {
        Random random = new Random(20);
        for (int i = 0; i < 20_000; i++) {
            Duration skew = Duration.ofSeconds(random.nextInt(300));
            Duration minRemaining = Duration.ofSeconds(1 + random.nextInt(600));
            TokenLifetimePolicy policy = new TokenLifetimePolicy(Duration.ofSeconds(random.nextInt(7200)),
                    minRemaining, minRemaining.plusSeconds(random.nextInt(3600)), skew);
            Instant sent = SENT.plusMillis(random.nextInt(Integer.MAX_VALUE));
            Duration lifetime = Duration.ofSeconds(1 + random.nextInt(7200));
            Optional<Duration> refreshIn = random.nextBoolean()
                    ? Optional.of(Duration.ofSeconds(random.nextInt(7200)))
                    : Optional.empty();
            AccessToken token = policy.accept(random.nextBoolean() ? "sandbox" : "primary", 1,
                    new MintResult.Issued("t", lifetime, refreshIn), sent, random.nextDouble());
            Instant now = sent.plusMillis(random.nextInt(8_000_000));

            if (policy.isServable(token, now)) {
                Duration told = policy.clientLifetime(token, now);
                assertThat(told).isGreaterThanOrEqualTo(minRemaining);
                assertThat(now.plus(told)).isBeforeOrEqualTo(token.expiresAt().minus(skew));
            }
            assertThat(token.refreshAt()).isAfterOrEqualTo(sent.plus(lifetime.dividedBy(4)))
                    .isBeforeOrEqualTo(token.expiresAt());
        }
    }
}
