package io.credentialbroker.token;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

import io.credentialbroker.credential.CredentialStore;
import io.credentialbroker.credential.CredentialStoreException;
import io.credentialbroker.credential.PartnerCredential;
import io.credentialbroker.environment.Environment;

/**
 * The token of one environment: cached, replaced ahead of expiry in the background, and served
 * through Azure AD's hiccups while it is still good. One cache per environment, sharing nothing
 * with the others: not a lock, not a thread's wait, not a failure.
 *
 * <p>
 * Single flight: whatever asks for a token (callers on a cold cache, callers who notice a refresh
 * is due, the periodic check), at most one mint runs at a time and everyone waiting shares its
 * result; MSAL.NET's "refresh convoy" (issue 4196) is what happens otherwise. A rotation's proof
 * for the environment takes the same flight ({@link #prove}). The hot path reads two volatile
 * fields and takes no lock.
 */
public final class TokenCache {

    private static final Logger LOG = Logger.getLogger(TokenCache.class);
    private static final Duration MIN_RETRY_AFTER = Duration.ofSeconds(1);

    private final Environment environment;
    private final CredentialStore credentials;
    private final TokenMinter minter;
    private final TokenLifetimePolicy lifetimes;
    private final RetryPolicy retries;
    private final Clock clock;
    private final Executor executor;
    private final TokenCacheObserver observer;

    private final Object lock = new Object();
    /** Guarded by {@link #lock}; non-null while a mint, or a rotation's proof, runs. */
    private CompletableFuture<AccessToken> flight;
    /** Guarded by {@link #lock}: the flight is a proof's. */
    private boolean proving;
    /** Guarded by {@link #lock}: someone waits on the proof's flight for a token. */
    private boolean proofJoined;
    private volatile AccessToken token;
    /**
     * The credential the next mint uses. Written by the flight (which reads the store when it has none,
     * or when Azure AD refused it) and by {@link #useCredential} (after a rotation, or when the watch
     * finds a new version in the store).
     */
    private volatile PartnerCredential credential;
    /** No request to Azure AD before this: Retry-After, or the backoff after a failed mint. */
    private volatile Instant quietUntil = Instant.MIN;
    private volatile TokenFailure lastFailure;

    public TokenCache(Environment environment, CredentialStore credentials, TokenMinter minter,
            TokenLifetimePolicy lifetimes, RetryPolicy retries, Clock clock, Executor executor,
            TokenCacheObserver observer) {
        this.environment = Objects.requireNonNull(environment, "environment");
        this.credentials = Objects.requireNonNull(credentials, "credentials");
        this.minter = Objects.requireNonNull(minter, "minter");
        this.lifetimes = Objects.requireNonNull(lifetimes, "lifetimes");
        this.retries = Objects.requireNonNull(retries, "retries");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.executor = Objects.requireNonNull(executor, "executor");
        this.observer = Objects.requireNonNull(observer, "observer");
    }

    public Environment environment() {
        return environment;
    }

    /**
     * A token a caller may use now. Completes at once from the cache in steady state; on a cold or
     * expired cache it waits for the one mint in flight, at most {@code max-wait}. Fails with
     * {@link TokenUnavailableException} when no servable token can be had, at once while Azure AD or
     * Vault is known to be failing.
     */
    public CompletableFuture<TokenGrant> grant() {
        Instant now = clock.instant();
        AccessToken current = token;
        if (current != null && lifetimes.isServable(current, now)) {
            if (current.isRefreshDue(now)) {
                refreshIfDue(false);
            }
            observer.servedFromCache(environment.name());
            return CompletableFuture.completedFuture(grantOf(current, now));
        }
        CompletableFuture<AccessToken> pending;
        synchronized (lock) {
            pending = flight;
            proofJoined |= pending != null && proving;
            if (pending == null) {
                if (now.isBefore(quietUntil)) {
                    return CompletableFuture.failedFuture(unavailable(currentFailureReason(), quietUntil, now));
                }
                pending = startFlight();
            }
        }
        return pending.copy().orTimeout(retries.maxWait().toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
                .handle((minted, error) -> {
                    Instant at = clock.instant();
                    if (error == null && lifetimes.isServable(minted, at)) {
                        return grantOf(minted, at);
                    }
                    throw new CompletionException(asUnavailable(error, at));
                });
    }

    /**
     * Starts a mint in the background if the token is due for refresh (or missing, when
     * {@code includeEmpty}) and Azure AD is not to be left alone; the periodic check and callers who
     * notice a due refresh call this.
     */
    public void refreshIfDue(boolean includeEmpty) {
        Instant now = clock.instant();
        AccessToken current = token;
        boolean due = current == null ? includeEmpty : current.isRefreshDue(now);
        if (!due || now.isBefore(quietUntil)) {
            return;
        }
        synchronized (lock) {
            if (flight == null && !now.isBefore(quietUntil)) {
                startFlight();
            }
        }
    }

    /**
     * Starts a mint in the background now, whatever the cached token's age, unless one is in flight or
     * Azure AD is to be left alone: the app+user keep-alive, which must exchange its refresh token even
     * when no caller asks.
     */
    public void refreshNow() {
        Instant now = clock.instant();
        synchronized (lock) {
            if (flight == null && !now.isBefore(quietUntil)) {
                startFlight();
            }
        }
    }

    /**
     * Mints the first token unless one is cached, being minted or Azure AD is to be left alone;
     * completes, well or badly, when that mint has ended.
     */
    public CompletableFuture<Void> warmUp() {
        CompletableFuture<AccessToken> pending;
        synchronized (lock) {
            if (token != null || clock.instant().isBefore(quietUntil)) {
                return CompletableFuture.completedFuture(null);
            }
            proofJoined |= flight != null && proving;
            pending = flight == null ? startFlight() : flight;
        }
        return pending.handle((minted, error) -> null);
    }

    public TokenStatus status() {
        Instant now = clock.instant();
        AccessToken current = token;
        TokenFailure failure = lastFailure;
        boolean minting;
        synchronized (lock) {
            minting = flight != null && !proving;
        }
        TokenStatus.State state;
        if (current == null || !lifetimes.isServable(current, now)) {
            state = TokenStatus.State.UNAVAILABLE;
        } else if (minting) {
            state = TokenStatus.State.REFRESHING;
        } else if (failure != null) {
            state = TokenStatus.State.STALE_SERVING;
        } else if (current.isRefreshDue(now)) {
            state = TokenStatus.State.REFRESHING;
        } else {
            state = TokenStatus.State.FRESH;
        }
        PartnerCredential inUse = credential;
        return new TokenStatus(state, Optional.ofNullable(current).map(AccessToken::expiresAt),
                Optional.ofNullable(inUse).map(PartnerCredential::version), Optional.ofNullable(failure));
    }

    /**
     * Mints the next tokens with {@code replacement}, the store's current version: after this replica
     * stored it in a rotation, or after the watch found it. The cached token is kept and served until
     * its refresh is due (tokens outlive the key that minted them); a mint in flight finishes with the
     * credential it started with. If the last mint failed for a reason only a new credential can cure
     * (a refused or expired key, another tenant's app), the quiet period after it ends: the new version
     * is what the cache was waiting for.
     */
    public void useCredential(PartnerCredential replacement) {
        useCredential(replacement, null, null);
    }

    /**
     * As {@link #useCredential(PartnerCredential)}, and the token that proved {@code replacement} (a
     * rotation's proof, minted through the same tenant check) becomes the cached token if the lifetime
     * policy accepts it: it is fresher than any cached one, and the quiet period after a failure ends
     * with it.
     *
     * @param proof
     *            null when there is none
     * @param sentAt
     *            when the proof's request was sent
     */
    public void useCredential(PartnerCredential replacement, MintResult.Issued proof, Instant sentAt) {
        Objects.requireNonNull(replacement, "replacement");
        AccessToken adopted = proof == null || !lifetimes.isUsefulLifetime(proof.expiresIn())
                ? null
                : lifetimes.accept(environment.name(), replacement.version(), proof, sentAt,
                        ThreadLocalRandom.current().nextDouble());
        boolean servable = adopted != null && lifetimes.isServable(adopted, clock.instant());
        PartnerCredential previous;
        synchronized (lock) {
            previous = credential;
            credential = replacement;
            TokenFailure failure = lastFailure;
            if (servable) {
                token = adopted;
                lastFailure = null;
                quietUntil = Instant.MIN;
            } else if (failure != null && failure.reason().isCuredByNewCredential()
                    && (previous == null || previous.version() != replacement.version())) {
                quietUntil = Instant.MIN;
            }
        }
        LOG.infof("Environment '%s' mints with credential version %d from now on (was %s)%s", environment.name(),
                replacement.version(), previous == null ? "none read yet" : "version " + previous.version(),
                servable
                        ? "; the token that proved it is served from now on: fingerprint " + adopted.fingerprint()
                        : "");
    }

    /**
     * Drops the cached token and says why: what it was minted from was withdrawn (an app+user consent
     * retired). A mint in flight finishes, but its minter refuses to hand on a token of what was
     * withdrawn.
     */
    public void forget() {
        synchronized (lock) {
            token = null;
            lastFailure = TokenFailure.of(TokenFailure.Reason.CONSENT_REQUIRED, clock.instant());
            quietUntil = Instant.MIN;
        }
        LOG.infof("Environment '%s''s cached token was dropped: what it was minted from was withdrawn",
                environment.name());
    }

    /** When Azure AD's last 429 lets this environment's tenant be asked again, while that is ahead. */
    public Optional<Instant> throttledUntil() {
        TokenFailure failure = lastFailure;
        Instant until = quietUntil;
        return failure != null && failure.reason() == TokenFailure.Reason.AZURE_AD_THROTTLED
                && until.isAfter(clock.instant()) ? Optional.of(until) : Optional.empty();
    }

    /**
     * Azure AD throttled a request for this environment made elsewhere (a rotation's proof): the cache
     * leaves the tenant alone as long, and says why.
     */
    public void throttled(Duration retryAfter) {
        Instant now = clock.instant();
        Instant until = now.plus(retryAfter);
        synchronized (lock) {
            if (until.isAfter(quietUntil)) {
                quietUntil = until;
            }
            lastFailure = new TokenFailure(TokenFailure.Reason.AZURE_AD_THROTTLED, now, 429, List.of(),
                    null, null, Optional.of(retryAfter));
        }
    }

    /**
     * Runs a rotation's proof (one token request with a candidate credential) as this environment's
     * flight: after a mint in flight has ended (waiting at most {@code max-wait}), and with no mint
     * starting until it returns. Callers who find no servable token meanwhile wait for the proof to end
     * and then share the mint it starts for them. The proof's token is not this cache's: it is never
     * handed to them.
     *
     * @return what {@code proof} returned, or a transient failure ({@code mint_in_progress}) if the
     *         mint in flight did not end in time
     */
    public MintResult prove(Supplier<MintResult> proof) {
        long deadline = System.nanoTime() + retries.maxWait().toNanos(); // real time: it bounds real waiting
        CompletableFuture<AccessToken> held = new CompletableFuture<>();
        while (true) {
            CompletableFuture<AccessToken> pending;
            synchronized (lock) {
                pending = flight;
                if (pending == null) {
                    flight = held;
                    proving = true;
                    proofJoined = false;
                    break;
                }
            }
            try {
                pending.handle((minted, error) -> null).get(Math.max(0, deadline - System.nanoTime()),
                        TimeUnit.NANOSECONDS);
            } catch (TimeoutException | ExecutionException e) {
                return MintResult.Failed.withoutBody(MintResult.FailureKind.TRANSIENT, 0,
                        TokenFailure.Reason.MINT_IN_PROGRESS.code());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return MintResult.Failed.withoutBody(MintResult.FailureKind.TRANSIENT, 0,
                        TokenFailure.Reason.MINT_IN_PROGRESS.code());
            }
        }
        try {
            return proof.get();
        } finally {
            endProof(held);
        }
    }

    /** Gives the flight back; those who waited on it for a token get the mint it starts for them. */
    private void endProof(CompletableFuture<AccessToken> held) {
        CompletableFuture<AccessToken> next = null;
        RuntimeException refused = null;
        AccessToken current = token;
        synchronized (lock) {
            flight = null;
            proving = false;
            Instant now = clock.instant();
            if (proofJoined && (current == null || !lifetimes.isServable(current, now))) {
                if (now.isBefore(quietUntil)) {
                    refused = unavailable(currentFailureReason(), quietUntil, now);
                } else {
                    next = startFlight();
                }
            }
            proofJoined = false;
        }
        if (next != null) {
            next.whenComplete((minted, error) -> {
                if (error == null) {
                    held.complete(minted);
                } else {
                    held.completeExceptionally(error);
                }
            });
        } else if (refused != null) {
            held.completeExceptionally(refused);
        } else {
            held.complete(current); // a servable token, or nobody waits
        }
    }

    /** The store version of the credential the next mint uses, empty until one was read. */
    public Optional<Integer> credentialVersion() {
        return Optional.ofNullable(credential).map(PartnerCredential::version);
    }

    /** Caller holds {@link #lock}. */
    private CompletableFuture<AccessToken> startFlight() {
        CompletableFuture<AccessToken> started = new CompletableFuture<>();
        flight = started;
        try {
            executor.execute(() -> fly(started));
        } catch (RejectedExecutionException e) {
            // shutting down
            flight = null;
            started.completeExceptionally(unavailable(TokenFailure.Reason.INTERNAL_ERROR, null, clock.instant()));
        }
        return started;
    }

    private void fly(CompletableFuture<AccessToken> started) {
        AccessToken minted = null;
        TokenFailure failure = null;
        try {
            minted = mint();
        } catch (MintFailedException e) {
            failure = e.failure;
        } catch (RuntimeException e) {
            // the class and where it was thrown, not the message: a library's message may quote data
            LOG.errorf("Minting a token for environment '%s' failed unexpectedly: %s at %s", environment.name(),
                    e.getClass().getName(), e.getStackTrace().length > 0 ? e.getStackTrace()[0] : "?");
            failure = TokenFailure.of(TokenFailure.Reason.INTERNAL_ERROR, clock.instant());
        }
        Instant now = clock.instant();
        synchronized (lock) {
            if (minted != null) {
                token = minted;
                lastFailure = null;
                quietUntil = Instant.MIN;
            } else {
                lastFailure = failure;
                quietUntil = now.plus(retries.backoffAfterFailure(failure));
            }
            flight = null;
        }
        if (minted != null) {
            LOG.infof("Minted a token for environment '%s' with credential version %d: fingerprint %s,"
                    + " expires %s, refresh from %s", environment.name(), minted.credentialVersion(),
                    minted.fingerprint(), minted.expiresAt(), minted.refreshAt());
            started.complete(minted);
        } else {
            logFailure(failure);
            observer.mintFailed(environment.name(), failure.reason());
            started.completeExceptionally(unavailable(failure.reason(), quietUntil, now));
        }
    }

    /** Runs on the flight thread only. */
    private AccessToken mint() {
        PartnerCredential current = credential;
        if (current == null) {
            current = readCredential();
        }
        Attempt attempt = mintWithRetries(current);
        if (attempt.result() instanceof MintResult.Failed failed && failed.kind().isCredentialProblem()) {
            // Another replica may have rotated the key since we read it: read Vault once more, and
            // try the credential found there once; never retry the same rejected key (docs/upstream-behaviour.md).
            Optional<PartnerCredential> reread = rereadCredential();
            if (reread.isPresent() && !reread.get().sameKeyAs(current)) {
                current = reread.get();
                attempt = mintOnce(current);
            }
        }
        if (attempt.result() instanceof MintResult.Issued issued) {
            if (!lifetimes.isUsefulLifetime(issued.expiresIn())) {
                throw new MintFailedException(
                        TokenFailure.of(TokenFailure.Reason.TOKEN_LIFETIME_TOO_SHORT, clock.instant()));
            }
            return lifetimes.accept(environment.name(), current.version(), issued, attempt.sentAt(),
                    ThreadLocalRandom.current().nextDouble());
        }
        throw new MintFailedException(TokenFailure.fromAzureAd((MintResult.Failed) attempt.result(), clock.instant()));
    }

    private Attempt mintWithRetries(PartnerCredential current) {
        Attempt attempt = mintOnce(current);
        for (int retry = 1; retry <= retries.maxRetries(); retry++) {
            if (!(attempt.result() instanceof MintResult.Failed failed)
                    || failed.kind() != MintResult.FailureKind.TRANSIENT) {
                return attempt;
            }
            Duration pause = retries.backoffBeforeRetry(retry);
            if (failed.retryAfter().filter(asked -> asked.compareTo(pause) > 0).isPresent()) {
                return attempt; // Azure AD asked for a longer pause than a retry within this mint allows
            }
            LOG.debugf("Retrying the token request for environment '%s' in %d ms (%s)", environment.name(),
                    pause.toMillis(), failed.error());
            if (!sleep(pause)) {
                return attempt;
            }
            attempt = mintOnce(current);
        }
        return attempt;
    }

    private Attempt mintOnce(PartnerCredential current) {
        Instant sentAt = clock.instant();
        long started = System.nanoTime(); // real time: the clock may be a test's
        MintResult result = minter.mint(environment, current);
        observer.azureAdAnswered(environment.name(), result, Duration.ofNanos(System.nanoTime() - started));
        return new Attempt(result, sentAt);
    }

    private PartnerCredential readCredential() {
        try {
            PartnerCredential read = credentials.read(environment);
            synchronized (lock) {
                // A rotation or the watch may have switched to a newer version while this read was on
                // the wire; don't go back. (A lower version can only be newer if the secret was deleted
                // and written anew; the watch, which compares for difference, switches to it.)
                PartnerCredential inUse = credential;
                if (inUse == null || read.version() >= inUse.version()) {
                    credential = read;
                }
            }
            return read;
        } catch (CredentialStoreException e) {
            throw new MintFailedException(TokenFailure.fromStore(e, clock.instant()));
        }
    }

    private Optional<PartnerCredential> rereadCredential() {
        try {
            return Optional.of(readCredential());
        } catch (MintFailedException e) {
            LOG.warnf("Azure AD refused environment '%s''s credential and re-reading it from the store failed: %s",
                    environment.name(), e.failure.reason().code());
            return Optional.empty();
        }
    }

    private TokenFailure.Reason currentFailureReason() {
        TokenFailure failure = lastFailure;
        return failure == null ? TokenFailure.Reason.AZURE_AD_UNAVAILABLE : failure.reason();
    }

    private TokenGrant grantOf(AccessToken current, Instant now) {
        Duration expiresIn = lifetimes.clientLifetime(current, now);
        return new TokenGrant(current, expiresIn,
                now.plus(expiresIn).truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
    }

    private TokenUnavailableException asUnavailable(Throwable error, Instant now) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (cause instanceof TokenUnavailableException unavailable) {
            return unavailable;
        }
        if (cause instanceof TimeoutException) {
            return new TokenUnavailableException(environment.name(), TokenFailure.Reason.MINT_IN_PROGRESS,
                    MIN_RETRY_AFTER);
        }
        // the flight succeeded, but the token is no longer servable by the time this caller got it
        return unavailable(TokenFailure.Reason.TOKEN_LIFETIME_TOO_SHORT, quietUntil, now);
    }

    private TokenUnavailableException unavailable(TokenFailure.Reason reason, Instant until, Instant now) {
        Duration wait = until == null || !until.isAfter(now) ? MIN_RETRY_AFTER : Duration.between(now, until);
        return new TokenUnavailableException(environment.name(), reason,
                wait.compareTo(MIN_RETRY_AFTER) < 0 ? MIN_RETRY_AFTER : wait);
    }

    private void logFailure(TokenFailure failure) {
        // Azure AD's error identifiers only: not the request form nor error_description (docs/upstream-behaviour.md).
        LOG.warnf("No token for environment '%s': %s (http %d, error_codes %s, trace_id %s, correlation_id %s);"
                + " next attempt after %s", environment.name(), failure.reason().code(), failure.httpStatus(),
                failure.errorCodes(), failure.traceId(), failure.correlationId(), quietUntil);
    }

    private static boolean sleep(Duration pause) {
        try {
            Thread.sleep(pause.toMillis());
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private record Attempt(MintResult result, Instant sentAt) {
    }

    /**
     * Carries a failure out of the flight: thrown by the cache itself, and by a minter that knows the
     * failure better than an Azure AD answer can say it (the app+user exchange's store and consent
     * failures). Never leaves the token package.
     */
    static final class MintFailedException extends RuntimeException {

        final transient TokenFailure failure;

        MintFailedException(TokenFailure failure) {
            super(failure.reason().code(), null, false, false);
            this.failure = failure;
        }
    }
}
