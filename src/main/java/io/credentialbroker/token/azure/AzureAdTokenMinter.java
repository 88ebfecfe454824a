package io.credentialbroker.token.azure;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.credentialbroker.config.BrokerConfig;
import io.credentialbroker.credential.PartnerCredential;
import io.credentialbroker.environment.Environment;
import io.credentialbroker.token.MintResult;
import io.credentialbroker.token.MintResult.Failed;
import io.credentialbroker.token.MintResult.FailureKind;
import io.credentialbroker.token.MintResult.Issued;
import io.credentialbroker.token.TokenMinter;

/**
 * Mints app-only tokens with the client-credentials grant against an environment's Azure AD token
 * endpoint, and translates Azure AD's answers into {@link MintResult}s.
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

    /** Broker error codes, for failures that carry no Azure AD {@code error}. */
    private static final String MALFORMED_RESPONSE = "malformed_response";
    private static final String TIMEOUT = "timeout";
    private static final String CONNECTION_FAILED = "connection_failed";
    private static final String INTERRUPTED = "interrupted";
    private static final String INVALID_ENDPOINT = "invalid_endpoint";
    private static final String EMPTY_SECRET = "empty_secret";
    private static final String THROTTLED = "throttled";
    private static final String HTTP_ERROR = "http_error";

    /** AADSTS7000222: the client secret has expired (docs/upstream-behaviour.md). */
    private static final int AADSTS_SECRET_EXPIRED = 7000222;

    /**
     * A Retry-After longer than this is taken as this: a proxy's typo must not park a tenant for days.
     */
    private static final Duration MAX_RETRY_AFTER = Duration.ofHours(1);

    /**
     * Azure AD's token answers are a few KiB; anything much larger is not one, and is not worth holding
     * in memory.
     */
    private static final int MAX_RESPONSE_BYTES = 64 * 1024;

    /** OAuth 2.0 error codes that mean Azure AD itself failed: worth a retry. */
    private static final Set<String> TRANSIENT_ERRORS = Set.of("temporarily_unavailable", "server_error");

    /**
     * Values from the response that end up in logs and in {@link Failed} must look like what Azure AD
     * sends (snake_case codes, GUIDs); anything else is dropped rather than echoed, so a misbehaving
     * proxy cannot smuggle text into our logs.
     */
    private static final Pattern SAFE_ERROR = Pattern.compile("[A-Za-z0-9_.-]{1,64}");
    private static final Pattern SAFE_ID = Pattern.compile("[A-Za-z0-9-]{1,64}");
    private static final Pattern DELTA_SECONDS = Pattern.compile("[0-9]{1,18}");
    private static final Pattern POSITIVE_SECONDS = Pattern.compile("[0-9]{1,10}");
    private static final int MAX_ERROR_CODES = 16;

    private final Duration readTimeout;
    private final Clock clock;
    private final HttpClient httpClient;
    private final ObjectMapper json;

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
        requirePositive(connectTimeout, "connectTimeout");
        this.readTimeout = requirePositive(readTimeout, "readTimeout");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.httpClient = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(connectTimeout)
                // A redirect from a token endpoint means the endpoint is misconfigured; following it
                // would send the form, secret included, somewhere we were not told to.
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
        // A plain mapper, not the application's SNAKE_CASE one: we read a tree, never bind types, so
        // nothing here needs reflection in a native image.
        this.json = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    }

    @Override
    public MintResult mint(Environment environment, PartnerCredential credential) {
        Objects.requireNonNull(environment, "environment");
        Objects.requireNonNull(credential, "credential");
        RequestLog log = new RequestLog(environment.name(), System.nanoTime());

        if (credential.clientSecret().isBlank()) {
            // Azure AD would refuse it anyway; don't spend a request (and a throttling budget) on it.
            return log.finish(Failed.withoutBody(FailureKind.CREDENTIAL_INVALID, 0, EMPTY_SECRET));
        }

        HttpRequest request;
        try {
            URI endpoint = environment.tokenEndpoint(credential.domain());
            log.endpoint = endpointForLog(endpoint);
            request = HttpRequest.newBuilder(endpoint)
                    .timeout(readTimeout)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .header("Accept", "application/json")
                    // Azure AD echoes this as correlation_id, so a timed-out request can still be traced.
                    .header("client-request-id", log.clientRequestId)
                    .header("return-client-request-id", "true")
                    .POST(HttpRequest.BodyPublishers.ofString(form(environment, credential)))
                    .build();
        } catch (IllegalArgumentException e) {
            // A template that gives no http(s) URI: only configuration can fix that.
            log.cause = e;
            return log.finish(Failed.withoutBody(FailureKind.CONFIGURATION, 0, INVALID_ENDPOINT));
        }

        // The JDK's request timeout ends when the response headers arrive; the body gets the rest of
        // the same budget, so a trickling answer cannot hold the refresh thread past the read timeout.
        long deadline = log.startNanos + readTimeout.toNanos();
        HttpResponse<byte[]> response;
        try {
            response = httpClient.send(request, info -> {
                log.status = info.statusCode();
                return new BoundedBodySubscriber(MAX_RESPONSE_BYTES, deadline - System.nanoTime());
            });
        } catch (HttpTimeoutException e) {
            log.cause = e;
            return log.finish(Failed.withoutBody(FailureKind.TRANSIENT, 0, TIMEOUT));
        } catch (IOException | UncheckedIOException e) {
            log.cause = e;
            if (causedBy(e, TimeoutException.class)) {
                return log.finish(Failed.withoutBody(FailureKind.TRANSIENT, 0, TIMEOUT));
            }
            if (causedBy(e, ResponseTooLargeException.class)) {
                return log.finish(Failed.withoutBody(FailureKind.TRANSIENT, log.status, MALFORMED_RESPONSE));
            }
            return log.finish(Failed.withoutBody(FailureKind.TRANSIENT, 0, CONNECTION_FAILED));
        } catch (InterruptedException e) {
            // The cache's refresh thread is being stopped; let it see that.
            Thread.currentThread().interrupt();
            log.cause = e;
            return log.finish(Failed.withoutBody(FailureKind.TRANSIENT, 0, INTERRUPTED));
        }

        MintResult result = isSuccess(response.statusCode()) ? readGrant(response) : readError(response);
        return log.finish(result);
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

    private static void appendField(StringBuilder form, String name, String value) {
        if (!form.isEmpty()) {
            form.append('&');
        }
        form.append(URLEncoder.encode(name, StandardCharsets.UTF_8))
                .append('=')
                .append(URLEncoder.encode(value, StandardCharsets.UTF_8));
    }

    private static boolean isSuccess(int status) {
        return status >= 200 && status < 300;
    }

    /**
     * A 2xx answer. Anything short of a usable grant is a transient {@code malformed_response}, so the
     * cache never stores it and tries again (reliability case 19).
     */
    private MintResult readGrant(HttpResponse<byte[]> response) {
        int status = response.statusCode();
        Failed malformed = Failed.withoutBody(FailureKind.TRANSIENT, status, MALFORMED_RESPONSE);
        Optional<JsonNode> body = parseObject(response.body());
        if (body.isEmpty()) {
            return malformed;
        }
        JsonNode grant = body.get();

        JsonNode accessToken = grant.get("access_token");
        if (accessToken == null || !accessToken.isTextual() || !isUsableToken(accessToken.textValue())) {
            return malformed;
        }
        JsonNode tokenType = grant.get("token_type");
        if (tokenType != null && !(tokenType.isTextual() && "bearer".equalsIgnoreCase(tokenType.textValue()))) {
            return malformed;
        }
        Optional<Duration> expiresIn = positiveSeconds(grant.get("expires_in"));
        if (expiresIn.isEmpty()) {
            return malformed;
        }
        // refresh_in is only advice: an unreadable one, or one past expiry, is dropped and the cache
        // falls back to its own refresh-before.
        Optional<Duration> refreshIn = positiveSeconds(grant.get("refresh_in"))
                .filter(refresh -> refresh.compareTo(expiresIn.get()) < 0);
        return new Issued(accessToken.textValue(), expiresIn.get(), refreshIn);
    }

    /**
     * The token goes into callers' {@code Authorization} headers: it must be one visible-ASCII word (as
     * JWTs and opaque tokens are), or a broken answer could inject header lines downstream.
     */
    private static boolean isUsableToken(String token) {
        if (token.isEmpty()) {
            return false;
        }
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            if (c < 0x21 || c > 0x7e) {
                return false;
            }
        }
        return true;
    }

    /** Seconds as a JSON integer or, from v1 endpoints, a string of digits; positive only. */
    private static Optional<Duration> positiveSeconds(JsonNode node) {
        long seconds;
        if (node == null) {
            return Optional.empty();
        } else if (node.isIntegralNumber() && node.canConvertToLong()) {
            seconds = node.longValue();
        } else if (node.isTextual() && POSITIVE_SECONDS.matcher(node.textValue()).matches()) {
            seconds = Long.parseLong(node.textValue());
        } else {
            return Optional.empty();
        }
        return seconds > 0 && seconds <= Integer.MAX_VALUE
                ? Optional.of(Duration.ofSeconds(seconds))
                : Optional.empty();
    }

    /**
     * A non-2xx answer. Branches on the status, {@code error} and {@code error_codes} only, never on
     * {@code error_description}, whose wording Azure AD changes (reliability case 21).
     */
    private MintResult readError(HttpResponse<byte[]> response) {
        int status = response.statusCode();
        JsonNode body = parseObject(response.body()).orElse(null);

        Optional<String> azureError = text(body, "error", SAFE_ERROR);
        List<Integer> errorCodes = errorCodes(body);
        String traceId = text(body, "trace_id", SAFE_ID)
                .or(() -> header(response, "x-ms-request-id", SAFE_ID))
                .orElse(null);
        String correlationId = text(body, "correlation_id", SAFE_ID)
                .or(() -> header(response, "client-request-id", SAFE_ID))
                .orElse(null);

        FailureKind kind = classify(status, azureError.orElse(""), errorCodes);
        Optional<Duration> retryAfter = kind == FailureKind.THROTTLED || kind == FailureKind.TRANSIENT
                ? retryAfter(response)
                : Optional.empty();
        String error = azureError.orElse(status == 429 ? THROTTLED : HTTP_ERROR);
        return new Failed(kind, status, error, errorCodes, traceId, correlationId, retryAfter);
    }

    /** docs/upstream-behaviour.md, "Azure AD responses"; docs/reliability.md, cases 10 to 14. */
    private static FailureKind classify(int status, String error, List<Integer> errorCodes) {
        if (status == 429) {
            return FailureKind.THROTTLED;
        }
        if (status >= 500 || TRANSIENT_ERRORS.contains(error)) {
            return FailureKind.TRANSIENT;
        }
        if ("invalid_client".equals(error)) {
            return errorCodes.contains(AADSTS_SECRET_EXPIRED)
                    ? FailureKind.CREDENTIAL_EXPIRED
                    : FailureKind.CREDENTIAL_INVALID;
        }
        // unauthorized_client (AADSTS700016, app not in tenant), invalid_request (90002 tenant not
        // found, 900432 and 90038 wrong cloud), unsupported_grant_type, invalid_scope,
        // invalid_resource, any other 4xx, and 3xx (redirects are not followed): the registration,
        // the tenant or the endpoint is wrong, and asking again will not change that.
        return FailureKind.CONFIGURATION;
    }

    /** The body as a JSON object, or empty for anything else: HTML, garbage, an array, nothing. */
    private Optional<JsonNode> parseObject(byte[] body) {
        if (body == null || body.length == 0) {
            return Optional.empty();
        }
        try {
            JsonNode node = json.readTree(body);
            return node != null && node.isObject() ? Optional.of(node) : Optional.empty();
        } catch (IOException e) {
            // Deliberately dropped: the parser's message quotes the body, which may hold a token.
            return Optional.empty();
        }
    }

    private static Optional<String> text(JsonNode body, String field, Pattern allowed) {
        if (body == null) {
            return Optional.empty();
        }
        JsonNode node = body.get(field);
        if (node == null || !node.isTextual() || !allowed.matcher(node.textValue()).matches()) {
            return Optional.empty();
        }
        return Optional.of(node.textValue());
    }

    private static List<Integer> errorCodes(JsonNode body) {
        JsonNode codes = body == null ? null : body.get("error_codes");
        if (codes == null || !codes.isArray()) {
            return List.of();
        }
        List<Integer> result = new ArrayList<>();
        for (JsonNode code : codes) {
            if (code.isIntegralNumber() && code.canConvertToInt() && result.size() < MAX_ERROR_CODES) {
                result.add(code.intValue());
            }
        }
        return result;
    }

    private static Optional<String> header(HttpResponse<?> response, String name, Pattern allowed) {
        return response.headers().firstValue(name).map(String::trim).filter(value -> allowed.matcher(value).matches());
    }

    /**
     * {@code Retry-After} as delta-seconds or an IMF-fixdate (RFC 9110 section 10.2.3), capped at
     * {@link #MAX_RETRY_AFTER}; a date in the past means "now". Absent or unreadable: empty, and the
     * cache uses its own backoff.
     */
    private Optional<Duration> retryAfter(HttpResponse<?> response) {
        return response.headers().firstValue("Retry-After").flatMap(this::parseRetryAfter);
    }

    Optional<Duration> parseRetryAfter(String header) {
        String value = header.trim();
        if (DELTA_SECONDS.matcher(value).matches()) {
            return Optional.of(cap(Duration.ofSeconds(Long.parseLong(value))));
        }
        try {
            ZonedDateTime date = ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME);
            Duration wait = Duration.between(clock.instant(), date.toInstant());
            return Optional.of(wait.isNegative() ? Duration.ZERO : cap(wait));
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }

    private static Duration cap(Duration wait) {
        return wait.compareTo(MAX_RETRY_AFTER) > 0 ? MAX_RETRY_AFTER : wait;
    }

    /** The JDK wraps what a body subscriber fails with, more than once. */
    private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    private static Throwable rootCause(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root;
    }

    /**
     * Scheme, host, port and path: enough to tell endpoints apart. Never the user-info (a proxy URL may
     * carry a password) nor the query.
     */
    private static String endpointForLog(URI endpoint) {
        String port = endpoint.getPort() == -1 ? "" : ":" + endpoint.getPort();
        return endpoint.getScheme() + "://" + endpoint.getHost() + port + endpoint.getRawPath();
    }

    private static Duration requirePositive(Duration duration, String name) {
        Objects.requireNonNull(duration, name);
        if (duration.isNegative() || duration.isZero()) {
            throw new IllegalArgumentException(name + " must be positive, was " + duration);
        }
        return duration;
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

    /** The response was larger than any token answer. Carries no content. */
    static final class ResponseTooLargeException extends IOException {

        private static final long serialVersionUID = 1L;

        ResponseTooLargeException() {
            super("response body exceeds " + MAX_RESPONSE_BYTES + " bytes");
        }
    }

    /**
     * Collects the body like {@code BodySubscribers.ofByteArray()}, but gives up past a size limit or a
     * deadline instead of buffering, or waiting for, whatever a broken endpoint streams at us. Giving
     * up cancels the subscription, which closes the connection.
     */
    static final class BoundedBodySubscriber implements HttpResponse.BodySubscriber<byte[]> {

        private final int limit;
        private final long timeLeftNanos;
        private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        private final CompletableFuture<byte[]> body = new CompletableFuture<>();

        BoundedBodySubscriber(int limit, long timeLeftNanos) {
            this.limit = limit;
            this.timeLeftNanos = Math.max(timeLeftNanos, 0);
        }

        @Override
        public CompletionStage<byte[]> getBody() {
            return body;
        }

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            subscription.request(Long.MAX_VALUE);
            // Armed after request(), so the one cancel() (from here or the size check below) never
            // overlaps it; a no-op if the body already completed.
            body.orTimeout(timeLeftNanos, TimeUnit.NANOSECONDS).whenComplete((bytes, failure) -> {
                if (failure != null) {
                    subscription.cancel();
                }
            });
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            if (body.isDone()) {
                return;
            }
            for (ByteBuffer item : items) {
                if (buffer.size() + item.remaining() > limit) {
                    body.completeExceptionally(new ResponseTooLargeException());
                    return;
                }
                byte[] bytes = new byte[item.remaining()];
                item.get(bytes);
                buffer.writeBytes(bytes);
            }
        }

        @Override
        public void onError(Throwable throwable) {
            body.completeExceptionally(throwable);
        }

        @Override
        public void onComplete() {
            body.complete(buffer.toByteArray());
        }
    }
}
