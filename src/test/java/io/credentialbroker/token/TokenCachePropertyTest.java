package io.credentialbroker.token;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import io.credentialbroker.credential.ClientSecret;
import io.credentialbroker.credential.CredentialMetadata;
import io.credentialbroker.credential.CredentialStore;
import io.credentialbroker.credential.PartnerCredential;
import io.credentialbroker.environment.Cloud;
import io.credentialbroker.environment.Environment;
import io.credentialbroker.testing.Fixtures;
import io.credentialbroker.testing.TestClock;

/**
 * Reliability case 20 as a property of what callers get from {@link TokenCache}, not only of the
 * lifetime arithmetic: for any issue time, {@code expires_in}, Azure AD latency and clock skew, a
 * grant never leaves less than {@code min-remaining} of the token's real life, never promises past
 * its real expiry, and never hands one environment's token out under another's name.
 */
class TokenCachePropertyTest {

    private static final Environment SANDBOX = environment("sandbox", Fixtures.SANDBOX);
    private static final Environment PRIMARY = environment("primary", Fixtures.PRIMARY);

    private final ExecutorService minting = Executors.newSingleThreadExecutor();

    @AfterEach
    void stop() {
        minting.shutdownNow();
    }

    @Test
    @DisplayName("case 20: for any issue time, expires_in, latency and skew, every grant through TokenCache keeps min-remaining and its environment's label")
    void neverHandsOutATokenWithLessThanMinRemainingOrUnderAnotherEnvironment() throws Exception {
        Random random = new Random(20);
        int grants = 0;
        for (int run = 0; run < 300; run++) {
            Duration skew = Duration.ofSeconds(random.nextInt(300));
            Duration minRemaining = Duration.ofSeconds(1 + random.nextInt(600));
            TokenLifetimePolicy policy = new TokenLifetimePolicy(Duration.ofSeconds(random.nextInt(7200)),
                    minRemaining, minRemaining.plusSeconds(random.nextInt(3600)), skew);
            TestClock clock = new TestClock();
            clock.freeze();
            clock.advance(Duration.ofMillis(random.nextInt(Integer.MAX_VALUE)));
            AzureAd azureAd = new AzureAd(clock, random, skew);
            RetryPolicy retries = new RetryPolicy(0, Duration.ofMillis(1), Duration.ofSeconds(30),
                    Duration.ofSeconds(10));
            List<TokenCache> caches = List.of(
                    new TokenCache(SANDBOX, STORE, azureAd, policy, retries, clock, minting, TokenCacheObserver.NONE),
                    new TokenCache(PRIMARY, STORE, azureAd, policy, retries, clock, minting, TokenCacheObserver.NONE));

            for (int step = 0; step < 40; step++) {
                clock.advance(Duration.ofMillis(random.nextInt(1_500_000)));
                TokenCache cache = caches.get(random.nextInt(2));
                // no mint of an earlier step still running: only this grant's own mint may move the clock
                minting.submit(() -> null).get(10, TimeUnit.SECONDS);
                Instant asked = clock.instant();
                TokenGrant grant;
                try {
                    grant = cache.grant().get(10, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException e) {
                    Throwable cause = e.getCause() instanceof CompletionException && e.getCause().getCause() != null
                            ? e.getCause().getCause()
                            : e.getCause();
                    assertThat(cause).isInstanceOf(TokenUnavailableException.class);
                    continue;
                }
                grants++;
                // when the grant was made: at once from the cache (a refresh it started in the background
                // may have moved the clock since), or, for a token minted in this call, when that mint ended
                // (nothing else runs then: the cache's one flight is this one, and no other was left running)
                boolean mintedForThisCall = !grant.token().issuedAt().isBefore(asked);
                Instant now = mintedForThisCall ? clock.instant() : asked;
                String environment = cache.environment().name();
                Instant realExpiry = azureAd.realExpiry(grant.token().value());

                assertThat(grant.token().environment()).isEqualTo(environment);
                assertThat(azureAd.environmentOf(grant.token().value())).as("minted for").isEqualTo(environment);
                assertThat(grant.expiresIn()).as("expires_in").isGreaterThanOrEqualTo(minRemaining);
                assertThat(Duration.between(now, realExpiry)).as("real life left")
                        .isGreaterThanOrEqualTo(minRemaining);
                assertThat(now.plus(grant.expiresIn())).as("what the caller is told").isBeforeOrEqualTo(realExpiry);
                assertThat(grant.expiresAt()).isBeforeOrEqualTo(realExpiry);
            }
        }
        assertThat(grants).as("the property was exercised on real grants").isGreaterThan(2_000);
    }

    /**
     * Azure AD as the cache meets it: each answer takes a while (the clock moves during the request),
     * and Azure AD's clock runs up to {@code skew} ahead of the broker's, so a token really expires up
     * to {@code skew} before the broker's send time plus {@code expires_in}.
     */
    private static final class AzureAd implements TokenMinter {

        private final TestClock clock;
        private final Random random;
        private final Duration skew;
        private final AtomicInteger issued = new AtomicInteger();
        private final Map<String, Instant> expiries = new ConcurrentHashMap<>();
        private final Map<String, String> environments = new ConcurrentHashMap<>();

        AzureAd(TestClock clock, Random random, Duration skew) {
            this.clock = clock;
            this.random = random;
            this.skew = skew;
        }

        @Override
        public synchronized MintResult mint(Environment environment, PartnerCredential credential) {
            Instant sent = clock.instant();
            Duration latency = Duration.ofMillis(random.nextInt(5_000));
            Duration expiresIn = Duration.ofSeconds(1 + random.nextInt(7200));
            Duration ahead = Duration.ofMillis(skew.isZero() ? 0 : random.nextLong(skew.toMillis() + 1));
            Optional<Duration> refreshIn = random.nextBoolean()
                    ? Optional.of(Duration.ofSeconds(random.nextInt(7200)))
                    : Optional.empty();
            String token = "fake-" + environment.name() + "-token-" + issued.incrementAndGet();
            // Azure AD stamps the token when the request reaches it; its clock runs ahead by `ahead`
            expiries.put(token, sent.plus(latency.dividedBy(2)).plus(expiresIn).minus(ahead));
            environments.put(token, environment.name());
            clock.advance(latency);
            return new MintResult.Issued(token, expiresIn, refreshIn);
        }

        Instant realExpiry(String token) {
            return expiries.get(token);
        }

        String environmentOf(String token) {
            return environments.get(token);
        }
    }

    /** Each environment's own credential; a cross-over would show as the other's client id. */
    private static final CredentialStore STORE = new CredentialStore() {

        @Override
        public PartnerCredential read(Environment environment) {
            Fixtures.Account account = environment.name().equals("sandbox") ? Fixtures.SANDBOX : Fixtures.PRIMARY;
            return new PartnerCredential(account.clientId(), new ClientSecret(account.clientSecret()),
                    account.domain(), 1, null);
        }

        @Override
        public PartnerCredential read(Environment environment, int version) {
            return read(environment);
        }

        @Override
        public CredentialMetadata metadata(Environment environment) {
            throw new UnsupportedOperationException();
        }

        @Override
        public PartnerCredential write(Environment environment, PartnerCredential candidate, int expectedVersion) {
            throw new UnsupportedOperationException();
        }
    };

    private static Environment environment(String name, Fixtures.Account account) {
        return new Environment(name, account.tenant(), Cloud.PUBLIC, account.vaultPath(),
                Environment.defaultTokenEndpoint(Cloud.PUBLIC), Cloud.PUBLIC.resource());
    }
}
