package io.credentialbroker.audit;

import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Writes audit events, one JSON object per line, to the logger category {@value #CATEGORY}, so
 * operators can route them apart from diagnostics.
 */
@ApplicationScoped
public class AuditLog {

    public static final String CATEGORY = "credential-broker.audit";

    private static final Logger LOG = Logger.getLogger(CATEGORY);

    private final ObjectMapper json;

    public AuditLog(ObjectMapper json) {
        this.json = json;
    }

    public void record(AuditEvent event) {
        if (!LOG.isInfoEnabled()) {
            return; // the category is turned off: no need to write the line
        }
        try {
            LOG.info(json.writeValueAsString(event));
        } catch (JsonProcessingException e) {
            // cannot happen for this record; never drop an audit event silently
            LOG.errorf("Could not write an audit event for action %s: %s", event.action(), e.getClass().getName());
        }
    }
}
