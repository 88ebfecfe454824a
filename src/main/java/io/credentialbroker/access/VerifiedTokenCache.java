package io.credentialbroker.access;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.Ticker;

/**
 * Callers' bearer tokens that were verified once, by the SHA-256 of the token, each until its own
 * {@code exp} or {@code maxAge} after it was verified, whichever comes first, and never longer; at
 * most {@code maxEntries} at once (Caffeine's size eviction, which keeps frequently used tokens).
 * Holds no token text: only digests and what verification found.
 *
 * <p>
 * Two clocks: {@code exp} is compared with {@code expiryClock}, the clock quarkus-oidc verified it
 * against (the system's); the age is measured by {@code clock}, the broker's own (the same in
 * production; tests tick it).
 *
 * @param <V>
 *            what verification established about the token
 */
final class VerifiedTokenCache<V> {

    private static final ThreadLocal<MessageDigest> SHA_256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java runtime", e);
        }
    });

    private final Clock expiryClock;
    private final Clock clock;
    private final long maxAgeMillis;
    private final Cache<Digest, Entry<V>> entries;
    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();

    VerifiedTokenCache(int maxEntries, Clock clock) {
        this(maxEntries, Duration.ofMillis(Long.MAX_VALUE / 4), clock, clock);
    }

    VerifiedTokenCache(int maxEntries, Duration maxAge, Clock expiryClock, Clock clock) {
        if (maxEntries < 1) {
            throw new IllegalArgumentException("maxEntries must be at least 1");
        }
        if (maxAge.isNegative() || maxAge.isZero()) {
            throw new IllegalArgumentException("maxAge must be positive");
        }
        this.expiryClock = expiryClock;
        this.clock = clock;
        this.maxAgeMillis = maxAge.toMillis();
        this.entries = Caffeine.newBuilder().maximumSize(maxEntries).expireAfter(new UntilTokenExpiry<V>(expiryClock))
                .ticker(ticker(expiryClock))
                // upkeep (eviction) runs on the thread that writes: no pool thread, predictable in tests
                .executor(Runnable::run).build();
    }

    /** What verification found for this token, if it was verified and has not expired since. */
    Optional<V> get(String token) {
        Digest key = Digest.of(token);
        Entry<V> entry = entries.getIfPresent(key);
        // Caffeine checks expiry on read too; this check keeps "never past exp, never older than
        // max-age" independent of it
        if (entry != null && expiryClock.millis() < entry.expiresAtMillis() && clock.millis() < entry.staleAtMillis()) {
            hits.increment();
            return Optional.of(entry.value());
        }
        if (entry != null) {
            entries.invalidate(key);
        }
        misses.increment();
        return Optional.empty();
    }

    /** What the cache holds for this token, valid or not, without counting a hit or miss; for tests. */
    Optional<V> peek(String token) {
        return Optional.ofNullable(entries.getIfPresent(Digest.of(token))).map(Entry::value);
    }

    /**
     * Remembers a verified token until {@code expiresAt}, or for {@code maxAge}, whichever comes first;
     * a token already expired is not kept.
     */
    void put(String token, V value, Instant expiresAt) {
        long until = Math.min(expiresAt.toEpochMilli(), saturatedAdd(expiryClock.millis(), maxAgeMillis));
        if (until > expiryClock.millis()) {
            entries.put(Digest.of(token), new Entry<>(value, until, saturatedAdd(clock.millis(), maxAgeMillis)));
        }
    }

    private static long saturatedAdd(long a, long b) {
        long sum = a + b;
        return ((a ^ sum) & (b ^ sum)) < 0 ? Long.MAX_VALUE : sum;
    }

    long size() {
        entries.cleanUp();
        return entries.estimatedSize();
    }

    long hits() {
        return hits.sum();
    }

    long misses() {
        return misses.sum();
    }

    private static Ticker ticker(Clock clock) {
        return () -> TimeUnit.MILLISECONDS.toNanos(clock.millis());
    }

    /**
     * @param expiresAtMillis
     *            the token's exp (capped at max-age), by the expiry clock
     * @param staleAtMillis
     *            max-age after verification, by the broker's clock
     */
    private record Entry<V>(V value, long expiresAtMillis, long staleAtMillis) {
    }

    private record UntilTokenExpiry<V>(Clock clock) implements Expiry<Digest, Entry<V>> {

        @Override
        public long expireAfterCreate(Digest key, Entry<V> entry, long currentTime) {
            return TimeUnit.MILLISECONDS.toNanos(Math.max(0, entry.expiresAtMillis() - clock.millis()));
        }

        @Override
        public long expireAfterUpdate(Digest key, Entry<V> entry, long currentTime, long currentDuration) {
            return expireAfterCreate(key, entry, currentTime);
        }

        @Override
        public long expireAfterRead(Digest key, Entry<V> entry, long currentTime, long currentDuration) {
            return currentDuration;
        }
    }

    /** A SHA-256 digest compared by content. */
    private static final class Digest {

        private final byte[] bytes;
        private final int hash;

        private Digest(byte[] bytes) {
            this.bytes = bytes;
            this.hash = Arrays.hashCode(bytes);
        }

        static Digest of(String token) {
            MessageDigest sha256 = SHA_256.get();
            sha256.reset();
            return new Digest(sha256.digest(token.getBytes(StandardCharsets.UTF_8)));
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Digest digest && MessageDigest.isEqual(bytes, digest.bytes);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }
}
