package io.credentialbroker.access;

import java.time.Clock;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

import jakarta.enterprise.context.ApplicationScoped;

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
@ApplicationScoped
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
        try {
            access.admitTokenRequest(caller, environment, requestId);
        } catch (AccessDeniedException e) {
            metrics.tokenRequest(environment, "denied", "not_granted");
            throw e;
        } catch (RateLimitedException e) {
            metrics.tokenRequest(environment, "throttled", "rate_limited");
            throw e;
        }
        try {
            return tokens.grant(environment).whenComplete((grant, error) -> {
                if (error == null) {
                    AccessToken token = grant.token();
                    audit.record(AuditEvent.tokenIssued(clock.instant(), caller.name(), environment,
                            token.credentialVersion(), token.fingerprint(), requestId));
                    metrics.tokenGranted(environment);
                } else {
                    Throwable cause = error instanceof CompletionException && error.getCause() != null
                            ? error.getCause()
                            : error;
                    String code = cause instanceof TokenUnavailableException unavailable
                            ? unavailable.reason().code()
                            : "internal_error";
                    audit.record(AuditEvent.tokenFailed(clock.instant(), caller.name(), environment, code, requestId));
                    metrics.tokenRequest(environment, "failed", code);
                }
            });
        } catch (UnknownEnvironmentException e) {
            audit.record(AuditEvent.tokenFailed(clock.instant(), caller.name(), "(unknown)", "unknown_environment",
                    requestId));
            metrics.tokenRequest(environment, "failed", "unknown_environment");
            throw e;
        }
    }
}
