package io.credentialbroker.access;

import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import org.jboss.logging.Logger;

import io.credentialbroker.audit.AuditAction;
import io.credentialbroker.audit.AuditEvent;
import io.credentialbroker.audit.AuditLog;
import io.credentialbroker.config.BrokerConfig;
import io.credentialbroker.config.InvalidConfigurationException;
import io.credentialbroker.environment.Environment;
import io.credentialbroker.environment.EnvironmentRegistry;
import io.quarkus.runtime.LaunchMode;
import io.quarkus.runtime.Startup;

/**
 * Decides whether a caller may do something in an environment, records refusals in the audit trail,
 * and applies the per-caller rate limit to token requests and to denied requests of any kind. A
 * caller granted only the sandbox can never obtain a primary token: nothing but {@link Grants}
 * opens an environment. A caller that keeps asking for what it may not have, or keeps asking past
 * its limit, gets 429 and one audit line a minute ({@link ThrottledAudit}), not one per request.
 */
@Startup
@Singleton
public class AccessPolicy {

    private static final Logger LOG = Logger.getLogger(AccessPolicy.class);

    private final Grants grants;
    private final RateLimiter rateLimiter;
    private final AuditLog audit;
    private final ThrottledAudit throttledAudit;
    private final EnvironmentRegistry environments;
    private final Clock clock;
    private final boolean authEnabled;

    @Inject
    AccessPolicy(Grants grants, RateLimiter rateLimiter, AuditLog audit, EnvironmentRegistry environments,
            BrokerConfig config, Clock clock) {
        this.grants = grants;
        this.rateLimiter = rateLimiter;
        this.audit = audit;
        this.throttledAudit = new ThrottledAudit(audit, clock);
        this.environments = environments;
        this.clock = clock;
        this.authEnabled = config.auth().enabled();
        if (!authEnabled) {
            if (LaunchMode.current() != LaunchMode.DEVELOPMENT) {
                throw new InvalidConfigurationException(List.of("broker.auth.enabled: authentication can be turned"
                        + " off in the dev profile only; this is the " + LaunchMode.current().getDefaultProfile()
                        + " profile"));
            }
            LOG.warn("AUTHENTICATION IS OFF (dev profile): every request acts as '"
                    + Callers.UNAUTHENTICATED_DEV_CALLER.name() + "' with every grant in every environment");
        } else if (grants.isEmpty()) {
            LOG.warn("No grant is configured (broker.grants.*): every request will be refused");
        }
    }

    public boolean authEnabled() {
        return authEnabled;
    }

    /**
     * A denied request counts against the caller's rate limit like a token request: a caller probing
     * what it may not have is held to the same pace.
     *
     * @throws AccessDeniedException,
     *             after recording the denial, when no grant gives the caller the permission in the
     *             environment
     * @throws RateLimitedException
     *             instead, when the caller is not granted and over its rate limit
     */
    public void require(Caller caller, String environment, Permission permission, AuditAction action,
            String requestId) {
        if (!authEnabled || grants.allows(caller, environment, permission)
                || grants.allowsEverywhere(caller, permission)) {
            return;
        }
        throttle(caller, environment, action, requestId);
        audit.record(AuditEvent.accessDenied(clock.instant(), caller.name(), named(environment), action, requestId));
        String where = EnvironmentRegistry.isWellFormedName(environment)
                ? "environment '" + environment + "'"
                : "this environment";
        throw new AccessDeniedException("Caller '" + caller.name() + "' has no '" + permission.configName()
                + "' grant for " + where + ".");
    }

    /**
     * Admits a token request: the {@code token} grant, then the caller's rate limit.
     *
     * @throws AccessDeniedException
     *             when not granted
     * @throws RateLimitedException
     *             when the caller is over its limit
     */
    public void admitTokenRequest(Caller caller, String environment, String requestId) {
        admit(caller, environment, requestId, Permission.TOKEN, AuditAction.TOKEN_ISSUE);
    }

    /**
     * Admits an app+user token request: the {@code app-user-token} grant, then the caller's rate limit
     * (the same budget as its app-only token requests).
     *
     * @throws AccessDeniedException
     *             when not granted
     * @throws RateLimitedException
     *             when the caller is over its limit
     */
    public void admitAppUserTokenRequest(Caller caller, String environment, String requestId) {
        admit(caller, environment, requestId, Permission.APP_USER_TOKEN, AuditAction.APP_USER_TOKEN_ISSUE);
    }

    private void admit(Caller caller, String environment, String requestId, Permission permission,
            AuditAction action) {
        require(caller, environment, permission, action, requestId);
        throttle(caller, environment, action, requestId);
    }

    /** Takes one request from the caller's bucket, or refuses it (429) when the bucket is empty. */
    private void throttle(Caller caller, String environment, AuditAction action, String requestId) {
        Optional<Duration> wait = rateLimiter.acquire(caller);
        if (wait.isPresent()) {
            throttledAudit.record(caller.name(),
                    AuditEvent.rateLimited(clock.instant(), caller.name(), named(environment), action, requestId));
            throw new RateLimitedException(wait.get());
        }
    }

    /** The environments in which the caller holds any permission, ordered by name. */
    public List<Environment> visibleTo(Caller caller) {
        Collection<Environment> all = environments.all();
        if (!authEnabled) {
            return List.copyOf(all);
        }
        return all.stream().filter(environment -> grants.environmentsOf(caller).contains(environment.name()))
                .toList();
    }

    /** The environment as an audit event names it: a name a caller made up may be anything. */
    private static String named(String environment) {
        return EnvironmentRegistry.isWellFormedName(environment) ? environment : "(malformed)";
    }
}
