package io.credentialbroker.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

import org.junit.jupiter.api.Test;

/** The cache's own rules, on a clock the test moves: expiry, separation, bounds. */
class VerifiedTokenCacheTest {

    private final MovableClock clock = new MovableClock();

    @Test
    void remembersAVerifiedTokenUntilItsExpiryAndNotAMomentLonger() {
        VerifiedTokenCache<String> cache = new VerifiedTokenCache<>(10, clock);
        cache.put("token-a", "caller-a", clock.instant().plusSeconds(60));

        assertThat(cache.get("token-a")).contains("caller-a");
        clock.advance(Duration.ofSeconds(59));
        assertThat(cache.get("token-a")).contains("caller-a");
        clock.advance(Duration.ofSeconds(1));
        assertThat(cache.get("token-a")).isEmpty();
        clock.advance(Duration.ofSeconds(-30)); // once found expired, it is gone: a clock stepping back cannot revive it
        assertThat(cache.get("token-a")).isEmpty();
    }

    @Test
    void neverKeepsATokenThatHasAlreadyExpired() {
        VerifiedTokenCache<String> cache = new VerifiedTokenCache<>(10, clock);
        cache.put("expired", "caller", clock.instant().minusSeconds(1));
        cache.put("expiring-now", "caller", clock.instant());

        assertThat(cache.get("expired")).isEmpty();
        assertThat(cache.get("expiring-now")).isEmpty();
        assertThat(cache.size()).isZero();
    }

    @Test
    void differentTokensNeverShareAnEntry() {
        VerifiedTokenCache<String> cache = new VerifiedTokenCache<>(10, clock);
        Instant exp = clock.instant().plusSeconds(60);
        cache.put("header.payload-a.signature", "caller-a", exp);
        cache.put("header.payload-b.signature", "caller-b", exp);

        assertThat(cache.get("header.payload-a.signature")).contains("caller-a");
        assertThat(cache.get("header.payload-b.signature")).contains("caller-b");
        assertThat(cache.get("header.payload-a.signaturE")).isEmpty();
        assertThat(cache.get("header.payload-a.signature ")).isEmpty();
        assertThat(cache.get("header.payload-a")).isEmpty();
        assertThat(cache.size()).isEqualTo(2);
    }

    @Test
    void holdsNoMoreThanItsMaximum() {
        VerifiedTokenCache<String> cache = new VerifiedTokenCache<>(100, clock);
        Instant exp = clock.instant().plusSeconds(3600);
        for (int i = 0; i < 5_000; i++) {
            cache.put("token-" + i, "caller-" + i, exp);
        }
        assertThat(cache.size()).isLessThanOrEqualTo(100);
    }

    @Test
    void countsHitsAndMisses() {
        VerifiedTokenCache<String> cache = new VerifiedTokenCache<>(10, clock);
        cache.get("token");
        cache.put("token", "caller", clock.instant().plusSeconds(60));
        cache.get("token");
        cache.get("token");

        assertThat(cache.misses()).isEqualTo(1);
        assertThat(cache.hits()).isEqualTo(2);
    }

    @Test
    void refusesANonPositiveSize() {
        assertThatThrownBy(() -> new VerifiedTokenCache<>(0, clock)).isInstanceOf(IllegalArgumentException.class);
    }

    private static final class MovableClock extends Clock {

        private Instant now = Instant.parse("2026-11-24T12:00:00Z");

        void advance(Duration by) {
            now = now.plus(by);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }
}
