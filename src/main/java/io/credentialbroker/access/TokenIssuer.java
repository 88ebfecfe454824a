package io.credentialbroker.access;

import java.time.Clock;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

import jakarta.inject.Singleton;

import io.credentialbroker.audit.AuditEvent;
import io.credentialbroker.audit.AuditLog;
import io.credentialbroker.environment.UnknownEnvironmentException;
import io.credentialbroker.metrics.BrokerMetrics;
import io.credentialbroker.token.AccessToken;
import io.credentialbroker.token.TokenGrant;
import io.credentialbroker.token.TokenService;
import io.credentialbroker.token.TokenUnavailableException;

/**
 * Hands a caller a token: checks the grant and the rate limit, takes the token from the cache, and
 * records the issuance (by fingerprint) or the failure in the audit trail.
 */
@Singleton
public class TokenIssuer {

    private final AccessPolicy access;
    private final TokenService tokens;
    private final AuditLog audit;
    private final Clock clock;
    private final BrokerMetrics metrics;

    TokenIssuer(AccessPolicy access, TokenService tokens, AuditLog audit, Clock clock, BrokerMetrics metrics) {
        this.access = access;
        this.tokens = tokens;
        this.audit = audit;
        this.clock = clock;
        this.metrics = metrics;
    }

    public CompletionStage<TokenGrant> issue(Caller caller, String environment, String requestId) {
        return issue(caller, environment, requestId, false);
    }

    /** As {@link #issue}, for an app+user token, under the {@code app-user-token} grant. */
    public CompletionStage<TokenGrant> issueAppUser(Caller caller, String environment, String requestId) {
        return issue(caller, environment, requestId, true);
    }

    private CompletionStage<TokenGrant> issue(Caller caller, String environment, String requestId,
            boolean appUser) {
        try {
            if (appUser) {
                access.admitAppUserTokenRequest(caller, environment, requestId);
            } else {
                access.admitTokenRequest(caller, environment, requestId);
            }
        } catch (AccessDeniedException e) {
            count(appUser, environment, "denied", "not_granted");
            throw e;
        } catch (RateLimitedException e) {
            count(appUser, environment, "throttled", "rate_limited");
            throw e;
        }
        try {
            CompletableFuture<TokenGrant> pending = appUser
                    ? tokens.grantAppUser(environment)
                    : tokens.grant(environment);
            return pending.whenComplete((grant, error) -> {
                if (error == null) {
                    granted(appUser, caller, environment, grant.token(), requestId);
                } else {
                    Throwable cause = error instanceof CompletionException && error.getCause() != null
                            ? error.getCause()
                            : error;
                    String code = cause instanceof TokenUnavailableException unavailable
                            ? unavailable.reason().code()
                            : "internal_error";
                    failed(appUser, caller, environment, code, requestId);
                }
            });
        } catch (UnknownEnvironmentException e) {
            failed(appUser, caller, "(unknown)", "unknown_environment", requestId);
            throw e;
        }
    }

    private void granted(boolean appUser, Caller caller, String environment, AccessToken token, String requestId) {
        if (appUser) {
            audit.record(AuditEvent.appUserTokenIssued(clock.instant(), caller.name(), environment,
                    token.credentialVersion(), token.fingerprint(), requestId));
            metrics.appUserTokenRequest(environment, "granted", null);
        } else {
            audit.record(AuditEvent.tokenIssued(clock.instant(), caller.name(), environment, token.credentialVersion(),
                    token.fingerprint(), requestId));
            metrics.tokenGranted(environment);
        }
    }

    private void failed(boolean appUser, Caller caller, String environment, String code, String requestId) {
        audit.record(appUser
                ? AuditEvent.appUserTokenFailed(clock.instant(), caller.name(), environment, code, requestId)
                : AuditEvent.tokenFailed(clock.instant(), caller.name(), environment, code, requestId));
        count(appUser, environment, "failed", code);
    }

    private void count(boolean appUser, String environment, String outcome, String code) {
        if (appUser) {
            metrics.appUserTokenRequest(environment, outcome, code);
        } else {
            metrics.tokenRequest(environment, outcome, code);
        }
    }
}
