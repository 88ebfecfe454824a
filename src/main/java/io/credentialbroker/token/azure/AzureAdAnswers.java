package io.credentialbroker.token.azure;

import java.io.IOException;
import java.net.http.HttpResponse;
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
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.credentialbroker.token.MintResult;
import io.credentialbroker.token.MintResult.Failed;
import io.credentialbroker.token.MintResult.FailureKind;
import io.credentialbroker.token.MintResult.Issued;
import io.credentialbroker.token.UserGrant;

/**
 * Reads Azure AD's answer to a token request into a {@link MintResult}: a grant, or a failure
 * classified by what the cache should do about it. Branches on the status, {@code error} and
 * {@code error_codes} only, never on {@code error_description}, whose wording Azure AD changes
 * (docs/upstream-behaviour.md, "Azure AD responses"; docs/reliability.md, cases 10 to 14, 19 and
 * 21). Nothing it keeps can quote the body: values that reach logs must look like what Azure AD
 * sends.
 */
final class AzureAdAnswers {

    /** Broker error codes, for failures that carry no Azure AD {@code error}. */
    static final String MALFORMED_RESPONSE = "malformed_response";
    private static final String THROTTLED = "throttled";
    private static final String HTTP_ERROR = "http_error";

    /** AADSTS7000222: the client secret has expired. */
    private static final int AADSTS_SECRET_EXPIRED = 7000222;

    /**
     * A Retry-After longer than this is taken as this: a proxy's typo must not park a tenant for days.
     */
    private static final Duration MAX_RETRY_AFTER = Duration.ofHours(1);

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

    /** OAuth 2.0 errors that refuse a person's grant: only a new consent helps. */
    private static final Set<String> GRANT_ERRORS = Set.of("invalid_grant", "interaction_required");

    private final Clock clock;
    private final ObjectMapper json;

    /**
     * @param clock
     *            the time {@code Retry-After} dates are measured against
     */
    AzureAdAnswers(Clock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
        // A plain mapper, not the application's SNAKE_CASE one: we read a tree, never bind types, so
        // nothing here needs reflection in a native image.
        this.json = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    }

    /** What an answer means: a grant for a 2xx, a classified failure for anything else. */
    MintResult read(HttpResponse<byte[]> response) {
        return isSuccess(response.statusCode()) ? readGrant(response) : readError(response);
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
        // Only an app+user exchange is answered with a refresh token; one that could not be handed on
        // intact is as useless as a broken access token.
        JsonNode refreshToken = grant.get("refresh_token");
        if (refreshToken != null && !(refreshToken.isTextual() && isUsableToken(refreshToken.textValue())
                && refreshToken.textValue().length() <= UserGrant.MAX_REFRESH_TOKEN_CHARS)) {
            return malformed;
        }
        return new Issued(accessToken.textValue(), expiresIn.get(), refreshIn,
                Optional.ofNullable(refreshToken).map(JsonNode::textValue));
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
        if (GRANT_ERRORS.contains(error)) {
            // AADSTS700082 (expired through inactivity), 50173 (revoked, password changed), 50076, 50078,
            // 50079 (MFA required, expired or not enrolled), or a grant issued to another client: the codes
            // say which, the answer is always a new consent (docs/upstream-behaviour.md).
            return FailureKind.GRANT_INVALID;
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

}
