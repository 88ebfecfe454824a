package io.credentialbroker.audit;

import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Writes audit events, one JSON object per line, to the logger category {@value #CATEGORY}, so
 * operators can route them apart from diagnostics.
 */
@ApplicationScoped
public class AuditLog {

    public static final String CATEGORY = "credential-broker.audit";

    /**
     * The logging context (MDC) key of the API request being served: every log line written while
     * serving it carries the id, and an audit event recorded then without one gets it.
     */
    public static final String REQUEST_ID = "request_id";

    private static final Logger LOG = Logger.getLogger(CATEGORY);

    private final ObjectMapper json;

    public AuditLog(ObjectMapper json) {
        this.json = json;
    }

    public void record(AuditEvent event) {
        if (!LOG.isInfoEnabled()) {
            return; // the category is turned off: no need to write the line
        }
        if (event.requestId() == null && MDC.get(REQUEST_ID) instanceof String requestId) {
            event = event.withRequestId(requestId);
        }
        try {
            LOG.info(json.writeValueAsString(event));
        } catch (JsonProcessingException e) {
            // cannot happen for this record; never drop an audit event silently
            LOG.errorf("Could not write an audit event for action %s: %s", event.action(), e.getClass().getName());
        }
    }
}
