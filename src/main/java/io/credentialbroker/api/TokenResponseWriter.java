package io.credentialbroker.api;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.annotation.Annotation;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Function;

import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.MultivaluedMap;
import jakarta.ws.rs.ext.Provider;

import org.jboss.resteasy.reactive.server.spi.ResteasyReactiveResourceInfo;
import org.jboss.resteasy.reactive.server.spi.ServerMessageBodyWriter;
import org.jboss.resteasy.reactive.server.spi.ServerRequestContext;

/**
 * Writes a {@link TokenResponse}: the headers every token answer carries
 * ({@value #ENVIRONMENT_HEADER} naming its environment, and no caching anywhere), and the same JSON
 * the application's Jackson mapper writes (snake case, fields in record order, {@code expires_at}
 * in ISO-8601), without Jackson: serialising the response was the largest frame left on the token
 * path that the broker could remove (bench/RESULTS.md). The headers go straight onto the response
 * as the body does: set through a {@code RestResponse}, they went through case-insensitive header
 * maps and were copied again, which cost about as much as the whole body. The ~1.2 KB token is
 * escaped once per token and its bytes reused for every caller it is handed to; {@code expires_at},
 * which moves by whole seconds, is formatted once per value and reused likewise; only the short
 * fields are written per request. TokenResponseWriterTest holds the output to Jackson's, so the two
 * cannot drift apart.
 */
@Provider
@Produces(MediaType.APPLICATION_JSON)
public class TokenResponseWriter implements ServerMessageBodyWriter<TokenResponse> {

    /** The header that repeats which environment a token belongs to. */
    public static final String ENVIRONMENT_HEADER = "Broker-Environment";
    private static final String CACHE_CONTROL = "Cache-Control";
    private static final String PRAGMA = "Pragma";

    private static final byte[] ENVIRONMENT = ascii("{\"environment\":");
    private static final byte[] KIND = ascii(",\"kind\":");
    private static final byte[] TOKEN_TYPE = ascii(",\"token_type\":");
    private static final byte[] ACCESS_TOKEN = ascii(",\"access_token\":");
    private static final byte[] EXPIRES_IN = ascii(",\"expires_in\":");
    private static final byte[] EXPIRES_AT = ascii(",\"expires_at\":");
    private static final byte[] RESOURCE = ascii(",\"resource\":");
    private static final byte[] CREDENTIAL_VERSION = ascii(",\"credential_version\":");
    private static final byte[] NULL = ascii("null");
    private static final byte[] HEX = ascii("0123456789ABCDEF");
    /** Room for every field but the token: names, environment, resource, numbers, the time. */
    private static final int SHORT_FIELDS = 320;

    /**
     * What was last written for each environment and kind. A refreshed token takes its predecessor's
     * place, so this holds no more tokens than the token cache itself, and only for environments the
     * broker answered for.
     */
    private final ConcurrentMap<Slot, LastWritten> lastWritten = new ConcurrentHashMap<>();

    @Override
    public boolean isWriteable(Class<?> type, Type genericType, ResteasyReactiveResourceInfo target,
            MediaType mediaType) {
        return type == TokenResponse.class;
    }

    @Override
    public boolean isWriteable(Class<?> type, Type genericType, Annotation[] annotations, MediaType mediaType) {
        return type == TokenResponse.class;
    }

    @Override
    public void writeResponse(TokenResponse response, Type genericType, ServerRequestContext context) {
        // straight to Vert.x, as RESTEasy Reactive writes a byte[] entity: no output stream per request
        context.serverResponse().setResponseHeader(ENVIRONMENT_HEADER, response.environment())
                .setResponseHeader(CACHE_CONTROL, "no-store").setResponseHeader(PRAGMA, "no-cache")
                .end(toJson(response));
    }

    @Override
    public void writeTo(TokenResponse response, Class<?> type, Type genericType, Annotation[] annotations,
            MediaType mediaType, MultivaluedMap<String, Object> httpHeaders, OutputStream entityStream)
            throws IOException {
        if (httpHeaders != null) {
            httpHeaders.putSingle(ENVIRONMENT_HEADER, response.environment());
            httpHeaders.putSingle(CACHE_CONTROL, "no-store");
            httpHeaders.putSingle(PRAGMA, "no-cache");
        }
        entityStream.write(toJson(response));
    }

    byte[] toJson(TokenResponse response) {
        LastWritten last = lastWritten.computeIfAbsent(new Slot(response.environment(), response.kind()),
                ignored -> new LastWritten());
        byte[] token = last.token.json(response.accessToken());
        Json json = new Json(token.length + SHORT_FIELDS);
        json.raw(ENVIRONMENT).string(response.environment());
        json.raw(KIND).string(response.kind());
        json.raw(TOKEN_TYPE).string(response.tokenType());
        json.raw(ACCESS_TOKEN).raw(token);
        json.raw(EXPIRES_IN).number(response.expiresIn());
        json.raw(EXPIRES_AT).raw(last.expiresAt.json(response.expiresAt()));
        json.raw(RESOURCE).string(response.resource());
        json.raw(CREDENTIAL_VERSION).number(response.credentialVersion());
        json.raw((byte) '}');
        return json.bytes();
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    private record Slot(String environment, String kind) {
    }

    /**
     * One slot's last token and {@code expires_at}, each with its JSON. The cached token hands every
     * caller the same String, so comparing tokens is an identity check; grants expire on whole seconds
     * ({@code TokenCache} truncates them), so every caller served within the same second gets the same
     * {@code expires_at}.
     */
    private static final class LastWritten {

        final Remembered<String> token = new Remembered<>(value -> new Json(value.length() + 2).string(value).bytes());
        // Jackson's InstantSerializer writes DateTimeFormatter.ISO_INSTANT, as Instant#toString does
        final Remembered<Instant> expiresAt = new Remembered<>(
                value -> new Json(32).string(DateTimeFormatter.ISO_INSTANT.format(value)).bytes());
    }

    /**
     * The last value written and its JSON, quotes included. Event loops may race to replace it; each
     * {@link Written} is immutable and complete, so a race costs a second formatting, never a mix.
     */
    private static final class Remembered<T> {

        private final Function<T, byte[]> write;
        private volatile Written<T> last;

        Remembered(Function<T, byte[]> write) {
            this.write = write;
        }

        /** The JSON of {@code value}: the last one's if it is the same, so stored only when it changed. */
        byte[] json(T value) {
            if (value == null) {
                return NULL;
            }
            Written<T> seen = last;
            if (seen != null && value.equals(seen.value())) {
                return seen.json();
            }
            Written<T> written = new Written<>(value, write.apply(value));
            last = written;
            return written.json();
        }
    }

    /** A value and its JSON; never logged (no {@code toString} use): it may be a token. */
    private record Written<T>(T value, byte[] json) {

        @Override
        public String toString() {
            return "Written[redacted]";
        }
    }

    /** A growing byte buffer with the few JSON writes the response needs, escaping as Jackson does. */
    private static final class Json {

        private byte[] buffer;
        private int length;

        Json(int capacity) {
            buffer = new byte[capacity];
        }

        Json raw(byte[] bytes) {
            ensure(bytes.length);
            System.arraycopy(bytes, 0, buffer, length, bytes.length);
            length += bytes.length;
            return this;
        }

        Json raw(byte b) {
            ensure(1);
            buffer[length++] = b;
            return this;
        }

        /** The decimal digits of {@code value}, written in place (no String per number). */
        Json number(long value) {
            if (value == Long.MIN_VALUE) {
                return raw(ascii(Long.toString(value)));
            }
            if (value < 0) {
                raw((byte) '-');
                value = -value;
            }
            int digits = 1;
            for (long rest = value / 10; rest > 0; rest /= 10) {
                digits++;
            }
            ensure(digits);
            for (int at = length + digits - 1; at >= length; at--) {
                buffer[at] = (byte) ('0' + value % 10);
                value /= 10;
            }
            length += digits;
            return this;
        }

        /**
         * A JSON string, or {@code null}. Escapes what Jackson's default UTF-8 generator escapes: the
         * quote, the backslash, control characters (short forms for backspace, tab, newline, form feed and
         * carriage return) and each UTF-16 surrogate (outside the Basic Multilingual Plane, emoji for one),
         * as six-character unicode escapes with upper-case hex; any other character goes out as UTF-8.
         */
        Json string(String value) {
            if (value == null) {
                return raw(NULL);
            }
            raw((byte) '"');
            int n = value.length();
            int i = 0;
            while (i < n) {
                char c = value.charAt(i);
                if (Character.isSurrogate(c)) {
                    unicodeEscape(c);
                    i++;
                    continue;
                }
                if (c >= 0x80) {
                    int end = i + 1;
                    while (end < n && value.charAt(end) >= 0x80 && !Character.isSurrogate(value.charAt(end))) {
                        end++;
                    }
                    raw(value.substring(i, end).getBytes(StandardCharsets.UTF_8));
                    i = end;
                    continue;
                }
                if (c == '"' || c == '\\') {
                    raw((byte) '\\').raw((byte) c);
                } else if (c < 0x20) {
                    escapeControl(c);
                } else {
                    raw((byte) c);
                }
                i++;
            }
            return raw((byte) '"');
        }

        private void escapeControl(char c) {
            switch (c) {
                case '\b' -> raw((byte) '\\').raw((byte) 'b');
                case '\t' -> raw((byte) '\\').raw((byte) 't');
                case '\n' -> raw((byte) '\\').raw((byte) 'n');
                case '\f' -> raw((byte) '\\').raw((byte) 'f');
                case '\r' -> raw((byte) '\\').raw((byte) 'r');
                default -> unicodeEscape(c);
            }
        }

        private void unicodeEscape(char c) {
            raw((byte) '\\').raw((byte) 'u').raw(HEX[c >> 12]).raw(HEX[(c >> 8) & 0xF]).raw(HEX[(c >> 4) & 0xF])
                    .raw(HEX[c & 0xF]);
        }

        private void ensure(int more) {
            if (length + more > buffer.length) {
                buffer = Arrays.copyOf(buffer, Math.max(buffer.length * 2, length + more));
            }
        }

        byte[] bytes() {
            return length == buffer.length ? buffer : Arrays.copyOf(buffer, length);
        }
    }
}
