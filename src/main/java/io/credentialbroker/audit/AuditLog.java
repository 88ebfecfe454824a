package io.credentialbroker.audit;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;

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
            json.writeStringField("time", event.time().toString());
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
