package io.credentialbroker.audit;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

import jakarta.annotation.PreDestroy;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

import io.quarkus.runtime.Startup;

/**
 * Writes audit events to the logger category {@value #CATEGORY}, one JSON object per line, through
 * that category's own {@link AuditHandler} only: never through the diagnostic console handler (and
 * its JSON formatter), so operators parse the event itself, not a string inside another document.
 * The level of the category turns the trail on and off.
 */
@Startup
@Singleton
public class AuditLog {

    public static final String CATEGORY = "credential-broker.audit";

    /**
     * The logging context (MDC) key of the API request being served: every log line written while
     * serving it carries the id, and an audit event recorded then without one gets it.
     */
    public static final String REQUEST_ID = "request_id";

    private static final Logger LOG = Logger.getLogger(CATEGORY);
    /** At shutdown, how long the queued events may take to be written. */
    private static final Duration FINAL_FLUSH = Duration.ofSeconds(5);

    private final AuditHandler handler;

    @Inject
    public AuditLog(Clock clock) {
        this.handler = AuditHandler.install(CATEGORY, clock);
    }

    public void record(AuditEvent event) {
        if (!LOG.isInfoEnabled()) {
            return; // the category is turned off: no need to write the line
        }
        if (event.requestId() == null && MDC.get(REQUEST_ID) instanceof String requestId) {
            event = event.withRequestId(requestId);
        }
        LOG.info(line(event));
    }

    /**
     * Counts an event left out of the trail on purpose: a caller's refusal for the rate limit within a
     * minute of its last written one; a later event of that caller says how many.
     */
    public void suppressed() {
        handler.countSuppressed();
    }

    @PreDestroy
    void flush() {
        handler.flush(FINAL_FLUSH);
    }

    /**
     * The event as operators get it: one JSON object, fields in this order, empty ones left out (see
     * the README, "Audit"). Written by hand into one builder, escaped as Jackson's generator escapes (a
     * quote, a backslash and control characters; nothing else), which {@code AuditEventTest} holds it
     * to: building it through Jackson's generator and a {@code StringWriter} was most of the audit's
     * cost on the token path.
     */
    static String line(AuditEvent event) {
        Line line = new Line();
        line.string("time", Times.iso(event.time()));
        line.string("caller", event.caller());
        line.optional("environment", event.environment());
        line.string("action", event.action().value());
        line.string("outcome", event.outcome().value());
        line.optional("credential_version", event.credentialVersion());
        line.optional("from_version", event.fromVersion());
        line.optional("to_version", event.toVersion());
        line.optional("token_fingerprint", event.tokenFingerprint());
        line.optional("error_code", event.errorCode());
        line.optional("request_id", event.requestId());
        line.optional("rotation_id", event.rotationId());
        if (!event.azureAdErrorCodes().isEmpty()) {
            line.name("azure_ad_error_codes").text.append('[');
            String comma = "";
            for (int code : event.azureAdErrorCodes()) {
                line.text.append(comma).append(code);
                comma = ",";
            }
            line.text.append(']');
        }
        line.optional("expected_tenant", event.expectedTenant());
        line.optional("found_tenant", event.foundTenant());
        line.optional("dropped_events", event.droppedEvents());
        line.optional("suppressed_events", event.suppressedEvents());
        return line.end();
    }

    /** One JSON object being written, field by field. */
    private static final class Line {

        private static final char[] HEX = "0123456789ABCDEF".toCharArray();

        final StringBuilder text = new StringBuilder(320).append('{');

        Line name(String name) {
            if (text.length() > 1) {
                text.append(',');
            }
            text.append('"').append(name).append("\":");
            return this;
        }

        void string(String name, String value) {
            name(name).quoted(value);
        }

        void optional(String name, String value) {
            if (value != null && !value.isEmpty()) {
                string(name, value);
            }
        }

        void optional(String name, Number value) {
            if (value != null) {
                name(name).text.append(value.longValue());
            }
        }

        String end() {
            return text.append('}').toString();
        }

        private void quoted(String value) {
            if (value == null) {
                text.append("null");
                return;
            }
            text.append('"');
            int n = value.length();
            int plain = 0;
            for (int i = 0; i < n; i++) {
                char c = value.charAt(i);
                if (c >= 0x20 && c != '"' && c != '\\') {
                    continue;
                }
                text.append(value, plain, i);
                plain = i + 1;
                switch (c) {
                    case '"' -> text.append("\\\"");
                    case '\\' -> text.append("\\\\");
                    case '\b' -> text.append("\\b");
                    case '\t' -> text.append("\\t");
                    case '\n' -> text.append("\\n");
                    case '\f' -> text.append("\\f");
                    case '\r' -> text.append("\\r");
                    default -> text.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xF]);
                }
            }
            text.append(value, plain, n).append('"');
        }
    }

    /**
     * An event's time exactly as {@link Instant#toString()} writes it, with the date and the time of
     * day formatted once per second rather than once per event: the many events of one second share
     * them, and formatting them was about a quarter of writing a token issuance's line. Years outside
     * 0000 to 9999, which {@code toString} writes with a sign, are left to it.
     */
    private static final class Times {

        private static final long FIRST_SECOND_OF_YEAR_0 = -62_167_219_200L;
        private static final long LAST_SECOND_OF_YEAR_9999 = 253_402_300_799L;

        /** The last second formatted, up to and without its {@code Z}. */
        private static volatile Second last = new Second(Long.MIN_VALUE, "");

        private record Second(long epochSecond, String text) {
        }

        private Times() {
        }

        static String iso(Instant time) {
            long epochSecond = time.getEpochSecond();
            if (epochSecond < FIRST_SECOND_OF_YEAR_0 || epochSecond > LAST_SECOND_OF_YEAR_9999) {
                return time.toString();
            }
            Second second = last;
            if (second.epochSecond() != epochSecond) {
                String whole = Instant.ofEpochSecond(epochSecond).toString();
                second = new Second(epochSecond, whole.substring(0, whole.length() - 1));
                last = second;
            }
            int nano = time.getNano();
            if (nano == 0) {
                return second.text() + 'Z';
            }
            // as toString: milliseconds, microseconds or nanoseconds, whichever is the fewest digits exact
            int digits = nano % 1_000_000 == 0 ? 3 : nano % 1_000 == 0 ? 6 : 9;
            String fraction = Integer.toString(digits == 3 ? nano / 1_000_000 : digits == 6 ? nano / 1_000 : nano);
            StringBuilder text = new StringBuilder(second.text().length() + 11).append(second.text()).append('.');
            for (int pad = fraction.length(); pad < digits; pad++) {
                text.append('0');
            }
            return text.append(fraction).append('Z').toString();
        }
    }
}
