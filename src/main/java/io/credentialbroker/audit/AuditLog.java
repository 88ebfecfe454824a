package io.credentialbroker.audit;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

import jakarta.annotation.PreDestroy;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

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
    private static final JsonFactory JSON = new JsonFactory();
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
     * the README, "Audit").
     */
    static String line(AuditEvent event) {
        StringWriter out = new StringWriter(256);
        try (JsonGenerator json = JSON.createGenerator(out)) {
            json.writeStartObject();
            json.writeStringField("time", Times.iso(event.time()));
            json.writeStringField("caller", event.caller());
            optional(json, "environment", event.environment());
            json.writeStringField("action", event.action().value());
            json.writeStringField("outcome", event.outcome().value());
            optional(json, "credential_version", event.credentialVersion());
            optional(json, "from_version", event.fromVersion());
            optional(json, "to_version", event.toVersion());
            optional(json, "token_fingerprint", event.tokenFingerprint());
            optional(json, "error_code", event.errorCode());
            optional(json, "request_id", event.requestId());
            optional(json, "rotation_id", event.rotationId());
            if (!event.azureAdErrorCodes().isEmpty()) {
                json.writeArrayFieldStart("azure_ad_error_codes");
                for (int code : event.azureAdErrorCodes()) {
                    json.writeNumber(code);
                }
                json.writeEndArray();
            }
            optional(json, "expected_tenant", event.expectedTenant());
            optional(json, "found_tenant", event.foundTenant());
            if (event.droppedEvents() != null) {
                json.writeNumberField("dropped_events", event.droppedEvents());
            }
            if (event.suppressedEvents() != null) {
                json.writeNumberField("suppressed_events", event.suppressedEvents());
            }
            json.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException("a StringWriter does not fail", e);
        }
        return out.toString();
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

    private static void optional(JsonGenerator json, String field, String value) throws IOException {
        if (value != null && !value.isEmpty()) {
            json.writeStringField(field, value);
        }
    }

    private static void optional(JsonGenerator json, String field, Integer value) throws IOException {
        if (value != null) {
            json.writeNumberField(field, value);
        }
    }
}
