package io.credentialbroker.metrics;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;

import io.credentialbroker.audit.AuditHandler;
import io.credentialbroker.credential.CredentialObserver;
import io.credentialbroker.environment.Environment;
import io.credentialbroker.environment.EnvironmentRegistry;
import io.credentialbroker.token.MintResult;
import io.credentialbroker.token.TokenCacheObserver;
import io.credentialbroker.token.TokenFailure;
import io.credentialbroker.token.TokenService;
import io.credentialbroker.token.TokenStatus;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;

/**
 * The broker's Prometheus series, each labelled with {@code environment} where one applies. Label
 * values are configured environment names and stable codes only: never a secret, a token, a caller
 * or anything a request can choose.
 */
@Singleton
public class BrokerMetrics implements TokenCacheObserver, CredentialObserver {

    /** Label value for a request naming no configured environment. */
    public static final String UNKNOWN_ENVIRONMENT = "unknown";

    private final MeterRegistry registry;
    /** The series {@link #registerGauges} made, to remove at shutdown. */
    private final List<Meter> observed = new CopyOnWriteArrayList<>();
    private final EnvironmentRegistry environments;
    /**
     * The token path's series of each configured environment (and of {@link #UNKNOWN_ENVIRONMENT}),
     * registered once: a request costs one look-up of a map that never changes.
     */
    private final Map<String, TokenCounters> tokenCounters;

    BrokerMetrics(MeterRegistry registry, EnvironmentRegistry environments) {
        this.registry = registry;
        this.environments = environments;
        Map<String, TokenCounters> counters = new HashMap<>();
        for (Environment environment : environments.all()) {
            counters.put(environment.name(), new TokenCounters(registry, environment.name()));
        }
        counters.put(UNKNOWN_ENVIRONMENT, new TokenCounters(registry, UNKNOWN_ENVIRONMENT));
        this.tokenCounters = Map.copyOf(counters);
    }

    /** One environment's token series: those of every request prepared, the rest made on first use. */
    private static final class TokenCounters {

        private final MeterRegistry registry;
        private final String environment;
        final Counter granted;
        final Counter cacheHits;
        /** outcome → error code → counter, for refusals and failures */
        private final Map<String, Map<String, Counter>> others = new ConcurrentHashMap<>();

        TokenCounters(MeterRegistry registry, String environment) {
            this.registry = registry;
            this.environment = environment;
            this.granted = requests("granted", "none");
            this.cacheHits = Counter.builder("broker_token_cache_hits_total")
                    .description("Tokens handed out from the cache at once").tag("environment", environment)
                    .register(registry);
        }

        Counter requests(String outcome, String errorCode) {
            return Counter.builder("broker_token_requests_total").description("Token requests by outcome")
                    .tag("environment", environment).tag("outcome", outcome).tag("error_code", errorCode)
                    .register(registry);
        }

        Counter other(String outcome, String errorCode) {
            return others.computeIfAbsent(outcome, ignored -> new ConcurrentHashMap<>())
                    .computeIfAbsent(errorCode, code -> requests(outcome, code));
        }
    }

    /**
     * The series read from the application's state when scraped. They are removed again at shutdown:
     * the registry can outlive the application (in a test JVM one application starts after another),
     * and a series left behind would keep reading the state of one that is gone.
     */
    void registerGauges(@Observes StartupEvent event, TokenService tokens) {
        observed.add(FunctionCounter
                .builder("broker_audit_events_dropped_total", AuditHandler.instance(), AuditHandler::dropped)
                .description("Audit events that could not be written because the audit queue was full (each"
                        + " gap is also an audit.overflow event in the trail)")
                .register(registry));
        observed.add(FunctionCounter
                .builder("broker_audit_events_suppressed_total", AuditHandler.instance(), AuditHandler::suppressed)
                .description("Refusals for the rate limit left out of the audit trail (one line per caller a"
                        + " minute; the next says how many)")
                .register(registry));
        for (Environment environment : environments.all()) {
            String name = environment.name();
            observed.add(Gauge.builder("broker_token_expiry_seconds", tokens, service -> service.status(name)
                    .expiresAt().map(at -> (double) Duration.between(service.now(), at).getSeconds())
                    .orElse(Double.NaN))
                    .description("Seconds until the cached token expires (NaN when there is none)")
                    .tag("environment", name).register(registry));
            observed.add(Gauge.builder("broker_credential_version", tokens,
                    service -> service.status(name).credentialVersion().map(Integer::doubleValue).orElse(Double.NaN))
                    .description("Vault version of the credential in use (NaN before the first load)")
                    .tag("environment", name).register(registry));
            observed.add(Gauge.builder("broker_token_servable", tokens,
                    service -> service.status(name).state() == TokenStatus.State.UNAVAILABLE ? 0 : 1)
                    .description("1 while the environment has a token that may be handed out")
                    .tag("environment", name).register(registry));
            registerAppUserGauges(tokens, name);
        }
    }

    /**
     * The app+user consent as this replica last read or wrote it: NaN while none is installed (or not
     * read yet), so an alert on age or expiry never fires for an environment without one.
     */
    private void registerAppUserGauges(TokenService tokens, String name) {
        observed.add(Gauge.builder("broker_app_user_refresh_token_age_seconds", tokens,
                service -> service.appUserStatus(name).consent()
                        .map(consent -> (double) Duration.between(consent.lastExchangedAt(), service.now())
                                .getSeconds())
                        .orElse(Double.NaN))
                .description("Seconds since the app+user refresh token was last exchanged (Entra expires it after 90"
                        + " days unused); NaN without a consent")
                .tag("environment", name).register(registry));
        observed.add(Gauge.builder("broker_app_user_inactivity_expiry_timestamp_seconds", tokens,
                service -> service.appUserStatus(name).consent()
                        .map(consent -> (double) consent.inactivityExpiry().getEpochSecond()).orElse(Double.NaN))
                .description("When the app+user refresh token would expire if never exchanged again (Unix time);"
                        + " NaN without a consent")
                .tag("environment", name).register(registry));
        observed.add(Gauge.builder("broker_app_user_mfa", tokens,
                service -> service.appUserStatus(name).consent().map(consent -> consent.mfa() ? 1.0 : 0.0)
                        .orElse(Double.NaN))
                .description("1 if the consenting user's last app+user token carried MFA (amr has mfa), 0 if not;"
                        + " NaN without a consent")
                .tag("environment", name).register(registry));
        observed.add(Gauge.builder("broker_app_user_consent_installed", tokens,
                service -> service.appUserStatus(name).consent().isPresent() ? 1 : 0)
                .description("1 while an app+user consent is installed for the environment")
                .tag("environment", name).register(registry));
    }

    void removeGauges(@Observes ShutdownEvent event) {
        observed.forEach(registry::remove);
        observed.clear();
    }

    /** A token handed out: the hot path, one look-up of a prepared counter. */
    public void tokenGranted(String environment) {
        counters(environment).granted.increment();
    }

    /**
     * A token request not answered with a token: {@code denied}, {@code throttled} or {@code failed}.
     */
    public void tokenRequest(String environment, String outcome, String errorCode) {
        counters(environment).other(outcome, errorCode == null ? "none" : errorCode).increment();
    }

    @Override
    public void servedFromCache(String environment) {
        counters(environment).cacheHits.increment();
    }

    private TokenCounters counters(String environment) {
        TokenCounters counters = environment == null ? null : tokenCounters.get(environment);
        return counters != null ? counters : tokenCounters.get(UNKNOWN_ENVIRONMENT);
    }

    @Override
    public void azureAdAnswered(String environment, MintResult result, Duration took) {
        String outcome;
        String errorCode;
        if (result instanceof MintResult.Failed failed) {
            outcome = failed.kind().name().toLowerCase(java.util.Locale.ROOT);
            errorCode = AzureAdErrorLabel.of(failed);
        } else {
            outcome = "issued";
            errorCode = "none";
        }
        Counter.builder("broker_azure_ad_requests_total").description("Token requests sent to Azure AD by outcome")
                .tag("environment", environment).tag("outcome", outcome).tag("error_code", errorCode)
                .register(registry).increment();
        Timer.builder("broker_azure_ad_request_duration").description("Time Azure AD took to answer a token request")
                .tag("environment", environment).publishPercentileHistogram().register(registry).record(took);
    }

    @Override
    public void mintFailed(String environment, TokenFailure.Reason reason) {
        Counter.builder("broker_token_failures_total")
                .description("Mints that ended without a token for callers, by reason")
                .tag("environment", environment).tag("code", reason.code()).register(registry).increment();
    }

    @Override
    public void appUserMintFailed(String environment, TokenFailure.Reason reason) {
        Counter.builder("broker_app_user_failures_total")
                .description("App+user exchanges that ended without a token for callers, by reason (consent_required:"
                        + " an admin agent must consent again)")
                .tag("environment", environment).tag("code", reason.code()).register(registry).increment();
    }

    /**
     * An app+user token request ended: {@code granted}, {@code denied}, {@code throttled} or
     * {@code failed}.
     */
    public void appUserTokenRequest(String environment, String outcome, String errorCode) {
        Counter.builder("broker_app_user_token_requests_total").description("App+user token requests by outcome")
                .tag("environment", label(environment)).tag("outcome", outcome)
                .tag("error_code", errorCode == null ? "none" : errorCode).register(registry).increment();
    }

    /** A call to Vault: {@code operation} read, write or metadata; {@code outcome} a stable reason. */
    @Override
    public void storeCalled(String operation, String outcome) {
        Counter.builder("broker_vault_requests_total").description("Vault requests by operation and outcome")
                .tag("operation", operation).tag("outcome", outcome).register(registry).increment();
    }

    /** A rotation ended: succeeded, failed, rejected or cancelled. */
    @Override
    public void rotationFinished(String environment, String outcome) {
        Counter.builder("broker_rotations_total").description("Credential rotations by outcome")
                .tag("environment", label(environment)).tag("outcome", outcome).register(registry).increment();
    }

    private String label(String environment) {
        return environment != null && environments.find(environment).isPresent() ? environment : UNKNOWN_ENVIRONMENT;
    }
}
