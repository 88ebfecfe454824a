package io.credentialbroker.access;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
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
 * {@code exp} and never longer; at most {@code maxEntries} at once (Caffeine's size eviction, which
 * keeps frequently used tokens). Holds no token text: only digests and what verification found.
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

    private final Clock clock;
    private final Cache<Digest, Entry<V>> entries;
    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();

    VerifiedTokenCache(int maxEntries, Clock clock) {
        if (maxEntries < 1) {
            throw new IllegalArgumentException("maxEntries must be at least 1");
        }
        this.clock = clock;
        this.entries = Caffeine.newBuilder().maximumSize(maxEntries).expireAfter(new UntilTokenExpiry<V>(clock))
                .ticker(ticker(clock))
                // upkeep (eviction) runs on the thread that writes: no pool thread, predictable in tests
                .executor(Runnable::run).build();
    }

    /** What verification found for this token, if it was verified and has not expired since. */
    Optional<V> get(String token) {
        Digest key = Digest.of(token);
        Entry<V> entry = entries.getIfPresent(key);
        // Caffeine checks expiry on read too; this check keeps "never past exp" independent of it
        if (entry != null && clock.millis() < entry.expiresAtMillis()) {
            hits.increment();
            return Optional.of(entry.value());
        }
        if (entry != null) {
            entries.invalidate(key);
        }
        misses.increment();
        return Optional.empty();
    }

    /** Remembers a verified token until {@code expiresAt}; a token already expired is not kept. */
    void put(String token, V value, Instant expiresAt) {
        long until = expiresAt.toEpochMilli();
        if (until > clock.millis()) {
            entries.put(Digest.of(token), new Entry<>(value, until));
        }
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

    private record Entry<V>(V value, long expiresAtMillis) {
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
