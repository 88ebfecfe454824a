package io.credentialbroker.token.azure;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.UUID;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import io.credentialbroker.config.BrokerConfig;
import io.credentialbroker.credential.PartnerCredential;
import io.credentialbroker.environment.Environment;
import io.credentialbroker.token.MintResult;
import io.credentialbroker.token.MintResult.Failed;
import io.credentialbroker.token.MintResult.FailureKind;
import io.credentialbroker.token.MintResult.Issued;
import io.credentialbroker.token.TokenMinter;
import io.credentialbroker.token.UserGrant;

/**
 * Mints app-only tokens with the client-credentials grant against an environment's Azure AD token
 * endpoint: builds the form, sends it with {@link AzureAdTransport}, and has {@link AzureAdAnswers}
 * read the answer into a {@link MintResult}.
 *
 * <p>
 * Built on the JDK {@link HttpClient} rather than quarkus-oidc-client, which hides the status, the
 * {@code Retry-After} header and the {@code error_codes} the cache must act on, fails with a
 * NullPointerException on a 503 with an empty body, and logs the request form, secret included, at
 * DEBUG (docs/upstream-behaviour.md). It is synchronous since the token cache calls it from its own
 * refresh thread; it blocks for at most the read timeout, counted from the start of the request to
 * the last byte of the answer (the connect timeout bounds the connecting part within it).
 *
 * <p>
 * Nothing secret leaves this class except the client secret in the request body and the access
 * token in {@link Issued}: the single DEBUG line per request holds only the environment, the
 * endpoint's host and path, the status and Azure AD's {@code error}, {@code error_codes},
 * {@code trace_id} and {@code correlation_id} (reliability cases 33, 34). Response bodies,
 * {@code error_description} and exception messages (which can quote the response) are never kept.
 */
@ApplicationScoped
public class AzureAdTokenMinter implements TokenMinter {

    private static final Logger LOG = Logger.getLogger(AzureAdTokenMinter.class);

    /** Broker error codes, for failures found before any request is sent. */
    private static final String INVALID_ENDPOINT = "invalid_endpoint";
    private static final String EMPTY_SECRET = "empty_secret";

    private final AzureAdTransport transport;
    private final AzureAdAnswers answers;

    @Inject
    public AzureAdTokenMinter(BrokerConfig config, Clock clock) {
        this(config.token().azureAd().connectTimeout(), config.token().azureAd().readTimeout(), clock);
    }

    /**
     * For tests and for callers outside CDI.
     *
     * @param connectTimeout
     *            how long establishing the connection may take
     * @param readTimeout
     *            how long one request may take in all, from its start (connecting included) to the last
     *            byte of the answer
     * @param clock
     *            the time {@code Retry-After} dates are measured against
     */
    AzureAdTokenMinter(Duration connectTimeout, Duration readTimeout, Clock clock) {
        this.transport = new AzureAdTransport(connectTimeout, readTimeout);
        this.answers = new AzureAdAnswers(clock);
    }

    @Override
    public MintResult mint(Environment environment, PartnerCredential credential) {
        Objects.requireNonNull(environment, "environment");
        Objects.requireNonNull(credential, "credential");
        return request(environment, credential, form(environment, credential));
    }

    @Override
    public MintResult exchange(Environment environment, PartnerCredential credential, UserGrant grant) {
        Objects.requireNonNull(environment, "environment");
        Objects.requireNonNull(credential, "credential");
        Objects.requireNonNull(grant, "grant");
        return request(environment, credential, form(environment, credential, grant));
    }

    private MintResult request(Environment environment, PartnerCredential credential, String form) {
        RequestLog log = new RequestLog(environment.name(), System.nanoTime());

        if (credential.clientSecret().isBlank()) {
            // Azure AD would refuse it anyway; don't spend a request (and a throttling budget) on it.
            return log.finish(Failed.withoutBody(FailureKind.CREDENTIAL_INVALID, 0, EMPTY_SECRET));
        }
        HttpResponse<byte[]> response;
        try {
            URI endpoint = environment.tokenEndpoint(credential.domain());
            log.endpoint = endpointForLog(endpoint);
            response = transport.post(endpoint, form, log.clientRequestId, log.startNanos,
                    status -> log.status = status);
        } catch (IllegalArgumentException e) {
            // A template that gives no http(s) URI: only configuration can fix that.
            log.cause = e;
            return log.finish(Failed.withoutBody(FailureKind.CONFIGURATION, 0, INVALID_ENDPOINT));
        } catch (AzureAdTransport.NoAnswerException e) {
            log.cause = e.getCause();
            return log.finish(Failed.withoutBody(FailureKind.TRANSIENT, e.status(), e.error()));
        }
        return log.finish(answers.read(response));
    }

    /** The request body. The secret is only ever here: never in the URL, a header or a log line. */
    private static String form(Environment environment, PartnerCredential credential) {
        StringBuilder form = new StringBuilder(256);
        appendField(form, "grant_type", "client_credentials");
        appendField(form, "client_id", credential.clientId());
        appendField(form, "client_secret", credential.clientSecret().reveal());
        if (environment.usesV1Endpoint()) {
            appendField(form, "resource", environment.resource());
        } else {
            appendField(form, "scope", environment.resource() + "/.default");
        }
        return form.toString();
    }

    /**
     * An app+user exchange: the person's grant and the app's credential, for the Partner Center
     * resource's {@code user_impersonation} scope plus {@code offline_access}, which makes Azure AD
     * return the next refresh token (docs/upstream-behaviour.md, "App+user tokens (Secure Application
     * Model)"). The grant's values are only ever here, like the secret.
     */
    private static String form(Environment environment, PartnerCredential credential, UserGrant grant) {
        StringBuilder form = new StringBuilder(2048);
        if (grant instanceof UserGrant.RefreshToken refresh) {
            appendField(form, "grant_type", "refresh_token");
            appendField(form, "refresh_token", refresh.value());
        } else if (grant instanceof UserGrant.AuthorizationCode code) {
            appendField(form, "grant_type", "authorization_code");
            appendField(form, "code", code.code());
            appendField(form, "redirect_uri", code.redirectUri().toString());
            appendField(form, "code_verifier", code.codeVerifier());
        }
        appendField(form, "client_id", credential.clientId());
        appendField(form, "client_secret", credential.clientSecret().reveal());
        if (environment.usesV1Endpoint()) {
            appendField(form, "resource", environment.resource());
        } else {
            appendField(form, "scope", userScope(environment));
        }
        return form.toString();
    }

    /** The scope an app+user token is asked for, on v2 endpoints. */
    public static String userScope(Environment environment) {
        return environment.resource() + "/user_impersonation offline_access";
    }

    private static void appendField(StringBuilder form, String name, String value) {
        if (!form.isEmpty()) {
            form.append('&');
        }
        form.append(URLEncoder.encode(name, StandardCharsets.UTF_8))
                .append('=')
                .append(URLEncoder.encode(value, StandardCharsets.UTF_8));
    }

    /**
     * Scheme, host, port and path: enough to tell endpoints apart. Never the user-info (a proxy URL may
     * carry a password) nor the query.
     */
    private static String endpointForLog(URI endpoint) {
        String port = endpoint.getPort() == -1 ? "" : ":" + endpoint.getPort();
        return endpoint.getScheme() + "://" + endpoint.getHost() + port + endpoint.getRawPath();
    }

    private static Throwable rootCause(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root;
    }

    /** What the one DEBUG line per request says; built up as the request goes. */
    private static final class RequestLog {

        final String environment;
        final long startNanos;
        final String clientRequestId = UUID.randomUUID().toString();
        String endpoint = "-";
        /** Set on the client's thread when the headers arrive, read on the caller's. */
        volatile int status;
        Throwable cause;

        RequestLog(String environment, long startNanos) {
            this.environment = environment;
            this.startNanos = startNanos;
        }

        MintResult finish(MintResult result) {
            if (LOG.isDebugEnabled()) {
                long millis = Duration.ofNanos(System.nanoTime() - startNanos).toMillis();
                // Only the exception's type: its message can quote the response.
                String causeType = cause == null ? "-" : rootCause(cause).getClass().getSimpleName();
                if (result instanceof Failed failed) {
                    LOG.debugf(
                            "Azure AD token request failed: environment=%s endpoint=%s status=%d kind=%s error=%s"
                                    + " error_codes=%s trace_id=%s correlation_id=%s client_request_id=%s"
                                    + " retry_after=%s cause=%s duration_ms=%d",
                            environment, endpoint, status, failed.kind(), failed.error(), failed.errorCodes(),
                            failed.traceId(), failed.correlationId(), clientRequestId,
                            failed.retryAfter().map(Duration::toSeconds).orElse(null), causeType, millis);
                } else if (result instanceof Issued issued) {
                    LOG.debugf(
                            "Azure AD token request succeeded: environment=%s endpoint=%s status=%d expires_in=%d"
                                    + " client_request_id=%s duration_ms=%d",
                            environment, endpoint, status, issued.expiresIn().toSeconds(), clientRequestId, millis);
                }
            }
            return result;
        }
    }
}
