package io.credentialbroker.token;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import org.jboss.logging.Logger;

import io.credentialbroker.audit.AuditLog;
import io.credentialbroker.config.BrokerConfig;
import io.credentialbroker.config.BrokerExecutors;
import io.credentialbroker.config.InvalidConfigurationException;
import io.credentialbroker.credential.ActiveCredentials;
import io.credentialbroker.credential.AppUserConsent;
import io.credentialbroker.credential.AppUserConsents;
import io.credentialbroker.credential.CredentialStore;
import io.credentialbroker.credential.PartnerCredential;
import io.credentialbroker.environment.Environment;
import io.credentialbroker.environment.EnvironmentRegistry;
import io.credentialbroker.environment.UnknownEnvironmentException;
import io.quarkus.runtime.StartupEvent;

/**
 * Owns one {@link TokenCache} per configured environment and keeps them warm: a periodic check
 * replaces each token ahead of its expiry even when no caller is asking. Rotations and the watch
 * switch a cache to a new credential through {@link ActiveCredentials}.
 */
@Singleton
public class TokenService implements ActiveCredentials, ProvedCredentials, TenantThrottle {

    private static final Logger LOG = Logger.getLogger(TokenService.class);

    private final Map<String, TokenCache> caches;
    private final Map<String, AppUserTokens> appUser;
    private final BrokerConfig.TokenConfig config;
    private final BrokerConfig.AppUserConfig appUserConfig;
    private final ExecutorService minting;
    private final ScheduledExecutorService checking;
    private final Clock clock;
    private volatile boolean warmedUp;

    @Inject
    TokenService(EnvironmentRegistry environments, CredentialStore credentials, TokenMinter minter,
            BrokerConfig config, Clock clock, TokenCacheObserver observer, BrokerExecutors executors,
            AppUserConsents consents, AuditLog audit) {
        this.config = config.token();
        this.appUserConfig = config.appUser();
        if (this.config.warmUpConcurrency() < 1) {
            throw new InvalidConfigurationException(List.of("broker.token.warm-up-concurrency must be at least 1, was "
                    + this.config.warmUpConcurrency()));
        }
        this.clock = clock;
        this.minting = executors.tokenMinting();
        this.checking = executors.tokenRefreshCheck();
        TokenLifetimePolicy lifetimes = TokenLifetimePolicy.from(this.config);
        RetryPolicy retries = RetryPolicy.from(this.config);
        Map<String, TokenCache> built = new LinkedHashMap<>();
        Map<String, AppUserTokens> builtAppUser = new LinkedHashMap<>();
        TokenCacheObserver appUserObserver = new TokenCacheObserver() {

            @Override
            public void mintFailed(String environment, TokenFailure.Reason reason) {
                observer.appUserMintFailed(environment, reason);
            }
        };
        for (Environment environment : environments.all()) {
            built.put(environment.name(),
                    new TokenCache(environment, credentials, minter, lifetimes, retries, clock, minting, observer));
            AppUserExchange exchange = new AppUserExchange(consents, minter, environment.appUserRequiresMfa(), audit,
                    clock, observer);
            builtAppUser.put(environment.name(), new AppUserTokens(exchange, new TokenCache(environment, credentials,
                    exchange, lifetimes, retries, clock, minting, appUserObserver)));
        }
        this.caches = Collections.unmodifiableMap(built);
        this.appUser = Collections.unmodifiableMap(builtAppUser);
    }

    void start(@Observes StartupEvent event) {
        for (TokenCache cache : caches.values()) {
            Environment environment = cache.environment();
            LOG.infof("Serving environment '%s': cloud %s, Vault path %s, token endpoint host %s",
                    environment.name(), environment.cloud().configName(), environment.vaultPath(),
                    environment.tokenEndpoint("tenant").getHost());
        }
        if (config.warmUp()) {
            warmUp();
        }
        long every = config.checkInterval().toMillis();
        checking.scheduleWithFixedDelay(this::refreshDueTokens, every, every, TimeUnit.MILLISECONDS);
        // The first read waits a check-interval too: a replica that exchanges before then reads the
        // record anyway, and a burst of reads at every start would only add to Vault's load.
        checking.schedule(this::checkAppUser, appUserConfig.checkInterval().toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Warms the caches {@code warm-up-concurrency} at a time, each lane taking the next environment
     * when its last one's mint has ended. Until all have had their turn, the periodic check leaves the
     * environments without a token alone; it then retries any whose warm-up failed.
     */
    private void warmUp() {
        Queue<TokenCache> waiting = new ConcurrentLinkedQueue<>(caches.values());
        int lanes = Math.min(config.warmUpConcurrency(), waiting.size());
        AtomicInteger running = new AtomicInteger(lanes);
        LOG.infof("Warming up %d environments, %d at a time", waiting.size(), lanes);
        for (int lane = 0; lane < lanes; lane++) {
            warmNext(waiting, running);
        }
    }

    private void warmNext(Queue<TokenCache> waiting, AtomicInteger running) {
        for (TokenCache next = waiting.poll(); next != null; next = waiting.poll()) {
            CompletableFuture<Void> warming = next.warmUp();
            if (!warming.isDone()) {
                warming.whenComplete((ignored, error) -> warmNext(waiting, running));
                return;
            }
        }
        if (running.decrementAndGet() == 0) {
            warmedUp = true;
            LOG.info("Every environment has had its warm-up");
        }
    }

    /**
     * A token for the named environment that a caller may use now.
     *
     * @throws UnknownEnvironmentException
     *             if no such environment is configured
     */
    public CompletableFuture<TokenGrant> grant(String environment) {
        return cache(environment).grant();
    }

    public TokenStatus status(String environment) {
        return cache(environment).status();
    }

    /** The time the caches go by. */
    public Instant now() {
        return clock.instant();
    }

    /**
     * An app+user token for the named environment that a caller may use now: exchanged from the
     * environment's consent, its successor refresh token stored before it is handed out.
     *
     * @throws UnknownEnvironmentException
     *             if no such environment is configured
     */
    public CompletableFuture<TokenGrant> grantAppUser(String environment) {
        return appUser(environment).cache().grant();
    }

    /** The state of the environment's app+user tokens, and the consent as this replica last saw it. */
    public AppUserStatus appUserStatus(String environment) {
        AppUserTokens tokens = appUser(environment);
        Optional<AppUserExchange.Known> known = tokens.exchange().known();
        return new AppUserStatus(tokens.cache().status(), known.isPresent(),
                known.map(AppUserExchange.Known::consent));
    }

    /**
     * A consent was just installed (and proved by the exchange that gave {@code proof}): the app+user
     * cache serves the proof's token if the lifetime policy accepts it, and forgets a failure that
     * waited for a person.
     */
    public void adoptAppUser(String environment, PartnerCredential app, AppUserConsent installed,
            MintResult.Issued proof, Instant sentAt) {
        AppUserTokens tokens = appUser(environment);
        tokens.exchange().remember(Optional.of(installed));
        tokens.cache().useCredential(app, proof, sentAt);
    }

    /**
     * The consent was retired: the app+user cache drops its token at once, so nothing more is served as
     * the person who consented.
     */
    public void retireAppUser(String environment) {
        AppUserTokens tokens = appUser(environment);
        tokens.exchange().remember(Optional.empty());
        tokens.cache().forget();
    }

    /**
     * @throws UnknownEnvironmentException
     *             if no such environment is configured
     */
    @Override
    public Optional<Integer> activeVersion(String environment) {
        return cache(environment).credentialVersion();
    }

    /**
     * @throws UnknownEnvironmentException
     *             if no such environment is configured
     */
    @Override
    public void activate(String environment, PartnerCredential credential) {
        cache(environment).useCredential(credential);
        appUser(environment).cache().useCredential(credential);
    }

    /**
     * @throws UnknownEnvironmentException
     *             if no such environment is configured
     */
    @Override
    public Optional<Instant> throttledUntil(String environment) {
        return cache(environment).throttledUntil();
    }

    @Override
    public void throttled(String environment, Duration retryAfter) {
        cache(environment).throttled(retryAfter);
    }

    @Override
    public void adopt(String environment, PartnerCredential credential, MintResult.Issued proof, Instant sentAt) {
        cache(environment).useCredential(credential, proof, sentAt);
    }

    @Override
    public MintResult prove(String environment, Supplier<MintResult> proof) {
        TokenCache cache = environment == null ? null : caches.get(environment);
        return cache == null ? proof.get() : cache.prove(proof);
    }

    private TokenCache cache(String environment) {
        TokenCache cache = environment == null ? null : caches.get(environment);
        if (cache == null) {
            throw new UnknownEnvironmentException(environment);
        }
        return cache;
    }

    private AppUserTokens appUser(String environment) {
        AppUserTokens tokens = environment == null ? null : appUser.get(environment);
        if (tokens == null) {
            throw new UnknownEnvironmentException(environment);
        }
        return tokens;
    }

    /**
     * Re-reads each environment's app+user record every {@code broker.app-user.check-interval}, so what
     * this replica reports (and keeps alive) follows what other replicas installed and exchanged. The
     * reads run on the mint threads, never on the refresh-check thread.
     */
    private void checkAppUser() {
        for (AppUserTokens tokens : appUser.values()) {
            Environment environment = tokens.cache().environment();
            try {
                minting.execute(() -> {
                    try {
                        tokens.exchange().load(environment);
                    } catch (RuntimeException e) {
                        LOG.warnf("Reading environment '%s''s app+user record failed: %s", environment.name(),
                                e.getMessage());
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                return; // shutting down
            }
        }
        long every = appUserConfig.checkInterval().toMillis();
        try {
            checking.schedule(this::checkAppUser, every, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // shutting down
        }
    }

    private void refreshDueTokens() {
        Instant now = clock.instant();
        for (AppUserTokens tokens : appUser.values()) {
            try {
                // No refresh ahead in the background: a caller's request starts one when the token is due (and
                // is served the current one meanwhile), so an idle environment costs no exchange and no Vault
                // write an hour. Only the keep-alive exchanges with nobody asking.
                if (tokens.exchange().keepAliveDue(now, appUserConfig.keepAlive())) {
                    tokens.cache().refreshNow();
                }
            } catch (RuntimeException e) {
                LOG.errorf("Checking environment '%s''s app+user token failed: %s",
                        tokens.cache().environment().name(), e.getClass().getName());
            }
        }
        for (TokenCache cache : caches.values()) {
            try {
                cache.refreshIfDue(config.warmUp() && warmedUp);
            } catch (RuntimeException e) {
                // one environment's trouble must not stop the others' refreshes
                LOG.errorf("Checking environment '%s''s token failed: %s", cache.environment().name(),
                        e.getClass().getName());
            }
        }
    }

    /** One environment's app+user exchange and the cache it mints for. */
    private record AppUserTokens(AppUserExchange exchange, TokenCache cache) {
    }
}
