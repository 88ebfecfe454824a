package io.credentialbroker.token;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

import org.jboss.logging.Logger;

import io.credentialbroker.audit.AuditEvent;
import io.credentialbroker.audit.AuditLog;
import io.credentialbroker.credential.AppUserConsent;
import io.credentialbroker.credential.AppUserConsents;
import io.credentialbroker.credential.CredentialStoreException;
import io.credentialbroker.credential.CredentialVersionConflictException;
import io.credentialbroker.credential.PartnerCredential;
import io.credentialbroker.environment.Environment;

/**
 * One environment's app+user exchange, as the minter of its app+user {@link TokenCache}: reads the
 * consent from the store, exchanges its refresh token with the app's credential, holds the answer
 * to the environment's MFA requirement, and writes the new refresh token back with check-and-set
 * before the access token goes anywhere (docs/upstream-behaviour.md, "App+user tokens (Secure
 * Application Model)").
 *
 * <p>
 * Losing the write-back race to another replica is harmless: Entra does not revoke a refresh token
 * when it is used, so this replica's access token is as good as the winner's, and the next exchange
 * starts from the winner's refresh token. If the record changed to another consent (re-consent) or
 * none (retired) meanwhile, the token of the old consent is not served. If the process dies between
 * the exchange and the write, the stored refresh token still works: nothing is lost.
 */
final class AppUserExchange implements TokenMinter {

    private static final Logger LOG = Logger.getLogger(AppUserExchange.class);

    private final AppUserConsents consents;
    private final TokenMinter minter;
    private final boolean requireMfa;
    private final AuditLog audit;
    private final Clock clock;
    private final TokenCacheObserver observer;

    /** The consent as last read or written by this replica; null until read. */
    private volatile Known known;

    AppUserExchange(AppUserConsents consents, TokenMinter minter, boolean requireMfa, AuditLog audit, Clock clock,
            TokenCacheObserver observer) {
        this.consents = Objects.requireNonNull(consents, "consents");
        this.minter = Objects.requireNonNull(minter, "minter");
        this.requireMfa = requireMfa;
        this.audit = Objects.requireNonNull(audit, "audit");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.observer = Objects.requireNonNull(observer, "observer");
    }

    /** Runs on the app+user cache's flight thread. */
    @Override
    public MintResult mint(Environment environment, PartnerCredential app) {
        AppUserConsent consent = readConsent(environment);
        Outcome outcome = exchangeAndWriteBack(environment, app, consent);
        if (outcome instanceof Superseded superseded) {
            // An admin agent consented again while this exchange ran: start over, once, from the new consent.
            outcome = exchangeAndWriteBack(environment, app, superseded.by());
        }
        if (outcome instanceof Answered answered) {
            return answered.result();
        }
        throw failure(TokenFailure.Reason.MINT_IN_PROGRESS);
    }

    private Outcome exchangeAndWriteBack(Environment environment, PartnerCredential app, AppUserConsent consent) {
        MintResult result = exchangeOnce(environment, app, consent);
        if (!(result instanceof MintResult.Issued issued)) {
            return new Answered(result);
        }
        boolean mfa = JwtPayload.of(issued.accessToken()).map(JwtPayload::hasMfa).orElse(false);
        if (requireMfa && !mfa) {
            LOG.warnf("Refused an app+user token for environment '%s': its user signed in without multifactor"
                    + " authentication (amr has no mfa), which broker.environments.%s.app-user.require-mfa requires;"
                    + " an admin agent must consent again, with MFA", environment.name(), environment.name());
            throw failure(TokenFailure.Reason.MFA_REQUIRED);
        }
        Instant now = clock.instant();
        AppUserConsent next = consent.exchanged(issued.refreshToken().orElse(consent.refreshToken()), now, mfa);
        try {
            AppUserConsent stored = consents.write(environment, next, consent.version());
            remember(Optional.of(stored));
            audit.record(AuditEvent.appUserExchanged(now, environment.name(), consent.version(), stored.version()));
            return new Answered(issued);
        } catch (CredentialVersionConflictException lost) {
            AppUserConsent winner = readConsent(environment);
            if (!winner.sameConsentAs(consent)) {
                return new Superseded(winner); // a token of the old consent must not be served
            }
            LOG.debugf("Another replica wrote environment '%s''s app+user refresh token back first (version %d);"
                    + " both tokens are valid, the next exchange starts from its", environment.name(),
                    winner.version());
            return new Answered(issued);
        } catch (CredentialStoreException e) {
            // The stored refresh token still works; this access token is not served without its successor
            // safely stored.
            LOG.warnf("Could not write environment '%s''s new app+user refresh token back (%s); the stored one"
                    + " still works, the token is not served", environment.name(), e.reason().code());
            throw new TokenCache.MintFailedException(TokenFailure.fromStore(e, clock.instant()));
        }
    }

    private MintResult exchangeOnce(Environment environment, PartnerCredential app, AppUserConsent consent) {
        long started = System.nanoTime();
        MintResult result = minter.exchange(environment, app, new UserGrant.RefreshToken(consent.refreshToken()));
        observer.azureAdAnswered(environment.name(), result, Duration.ofNanos(System.nanoTime() - started));
        return result;
    }

    /** The consent in force, remembered; a failure if there is none or it cannot be read. */
    private AppUserConsent readConsent(Environment environment) {
        Optional<AppUserConsent> consent = load(environment);
        return consent.orElseThrow(() -> failure(TokenFailure.Reason.CONSENT_REQUIRED));
    }

    /**
     * Reads the consent from the store and remembers it: for the keep-alive, the metrics and the status
     * on replicas that have not exchanged lately.
     *
     * @throws TokenCache.MintFailedException
     *             if the store cannot be read
     */
    Optional<AppUserConsent> load(Environment environment) {
        try {
            Optional<AppUserConsent> consent = consents.current(environment).consent();
            remember(consent);
            return consent;
        } catch (CredentialStoreException e) {
            throw new TokenCache.MintFailedException(TokenFailure.fromStore(e, clock.instant()));
        }
    }

    /** What this replica last saw stored; empty until it read the record. */
    Optional<Known> known() {
        return Optional.ofNullable(known);
    }

    void remember(Optional<AppUserConsent> consent) {
        known = new Known(consent.orElse(null), clock.instant());
    }

    /**
     * Whether the keep-alive should exchange now: a consent whose last exchange is {@code keepAlive}
     * ago.
     */
    boolean keepAliveDue(Instant now, Duration keepAlive) {
        Known seen = known;
        return seen != null && seen.consent() != null
                && !now.isBefore(seen.consent().lastExchangedAt().plus(keepAlive));
    }

    private TokenCache.MintFailedException failure(TokenFailure.Reason reason) {
        return new TokenCache.MintFailedException(
                new TokenFailure(reason, clock.instant(), 0, List.of(), null, null, Optional.empty()));
    }

    private sealed interface Outcome {
    }

    private record Answered(MintResult result) implements Outcome {
    }

    /** The record holds another consent than the one exchanged. */
    private record Superseded(AppUserConsent by) implements Outcome {
    }

    /**
     * The consent this replica last saw, and when.
     *
     * @param consent
     *            null if none was installed
     */
    record Known(AppUserConsent consent, Instant readAt) {
    }
}
