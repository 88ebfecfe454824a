package io.credentialbroker.metrics;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import io.credentialbroker.credential.CredentialObserver;
import io.credentialbroker.environment.Environment;
import io.credentialbroker.environment.EnvironmentRegistry;
import io.credentialbroker.token.MintResult;
import io.credentialbroker.token.TokenCacheObserver;
import io.credentialbroker.token.TokenFailure;
import io.credentialbroker.token.TokenService;
import io.credentialbroker.token.TokenStatus;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.runtime.StartupEvent;

/**
 * The broker's Prometheus series, each labelled with {@code environment} where one applies. Label
 * values are configured environment names and stable codes only: never a secret, a token, a caller
 * or anything a request can choose.
 */
@ApplicationScoped
public class BrokerMetrics implements TokenCacheObserver, CredentialObserver {

    /** Label value for a request naming no configured environment. */
    public static final String UNKNOWN_ENVIRONMENT = "unknown";

    private final MeterRegistry registry;
    private final EnvironmentRegistry environments;
    private final Map<String, Counter> cacheHits = new ConcurrentHashMap<>();
    private final Map<String, Counter> tokenRequests = new ConcurrentHashMap<>();

    BrokerMetrics(MeterRegistry registry, EnvironmentRegistry environments) {
        this.registry = registry;
        this.environments = environments;
    }

    void registerGauges(@Observes StartupEvent event, TokenService tokens) {
        for (Environment environment : environments.all()) {
            String name = environment.name();
            Gauge.builder("broker_token_expiry_seconds", tokens, service -> service.status(name).expiresAt()
                    .map(at -> (double) Duration.between(service.now(), at).getSeconds()).orElse(Double.NaN))
                    .description("Seconds until the cached token expires (NaN when there is none)")
                    .tag("environment", name).register(registry);
            Gauge.builder("broker_credential_version", tokens,
                    service -> service.status(name).credentialVersion().map(Integer::doubleValue).orElse(Double.NaN))
                    .description("Vault version of the credential in use (NaN before the first load)")
                    .tag("environment", name).register(registry);
            Gauge.builder("broker_token_servable", tokens,
                    service -> service.status(name).state() == TokenStatus.State.UNAVAILABLE ? 0 : 1)
                    .description("1 while the environment has a token that may be handed out")
                    .tag("environment", name).register(registry);
        }
    }

    /**
     * A token request answered: {@code granted}, {@code denied}, {@code throttled} or {@code failed}.
     */
    public void tokenRequest(String environment, String outcome, String errorCode) {
        // every token request passes here: one map look-up, no meter builder, once a series exists
        String label = label(environment);
        String code = errorCode == null ? "none" : errorCode;
        tokenRequests.computeIfAbsent(label + '\u0000' + outcome + '\u0000' + code,
                key -> Counter.builder("broker_token_requests_total").description("Token requests by outcome")
                        .tag("environment", label).tag("outcome", outcome).tag("error_code", code)
                        .register(registry))
                .increment();
    }

    @Override
    public void servedFromCache(String environment) {
        // the hot path: one map look-up, no meter builder
        cacheHits.computeIfAbsent(environment, name -> Counter.builder("broker_token_cache_hits_total")
                .description("Tokens handed out from the cache at once").tag("environment", name).register(registry))
                .increment();
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
