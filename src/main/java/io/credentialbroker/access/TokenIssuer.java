package io.credentialbroker.access;

import java.time.Clock;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

import jakarta.enterprise.context.ApplicationScoped;

import io.credentialbroker.audit.AuditEvent;
import io.credentialbroker.audit.AuditLog;
import io.credentialbroker.environment.UnknownEnvironmentException;
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

    private static final String ACTION = "token.issue";

    private final AccessPolicy access;
    private final TokenService tokens;
    private final AuditLog audit;
    private final Clock clock;

    TokenIssuer(AccessPolicy access, TokenService tokens, AuditLog audit, Clock clock) {
        this.access = access;
        this.tokens = tokens;
        this.audit = audit;
        this.clock = clock;
    }

    public CompletionStage<TokenGrant> issue(Caller caller, String environment, String requestId) {
        access.admitTokenRequest(caller, environment, requestId);
        try {
            return tokens.grant(environment).whenComplete((grant, error) -> {
                if (error == null) {
                    AccessToken token = grant.token();
                    audit.record(new AuditEvent(clock.instant(), caller.name(), environment, ACTION, "granted",
                            token.credentialVersion(), null, null, token.fingerprint(), null, requestId));
                } else {
                    Throwable cause = error instanceof CompletionException && error.getCause() != null
                            ? error.getCause()
                            : error;
                    String code = cause instanceof TokenUnavailableException unavailable
                            ? unavailable.reason().code()
                            : "internal_error";
                    audit.record(new AuditEvent(clock.instant(), caller.name(), environment, ACTION, "failed", null,
                            null, null, null, code, requestId));
                }
            });
        } catch (UnknownEnvironmentException e) {
            audit.record(new AuditEvent(clock.instant(), caller.name(), "(unknown)", ACTION, "failed", null, null,
                    null, null, "unknown_environment", requestId));
            throw e;
        }
    }
}
