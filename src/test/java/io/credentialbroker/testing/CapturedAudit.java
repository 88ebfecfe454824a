package io.credentialbroker.testing;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.credentialbroker.audit.AuditLog;

/**
 * The audit events the running broker writes while this is open, as the JSON lines operators get
 * (from the {@value AuditLog#CATEGORY} logger category).
 */
public final class CapturedAudit extends Handler implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Logger logger = Logger.getLogger(AuditLog.CATEGORY);
    private final List<String> lines = new CopyOnWriteArrayList<>();

    private CapturedAudit() {
        logger.addHandler(this);
    }

    public static CapturedAudit start() {
        return new CapturedAudit();
    }

    @Override
    public void publish(LogRecord record) {
        lines.add(record.getMessage());
    }

    /** Every line, as written. */
    public String text() {
        return String.join("\n", lines);
    }

    /** The lines one by one, as written. */
    public List<String> lines() {
        return List.copyOf(lines);
    }

    /** Every event, in order. */
    public List<JsonNode> events() {
        return lines.stream().map(CapturedAudit::parse).toList();
    }

    /** The events of one environment, in order. */
    public List<JsonNode> events(String environment) {
        return events().stream().filter(event -> environment.equals(event.path("environment").asText())).toList();
    }

    private static JsonNode parse(String line) {
        try {
            return JSON.readTree(line);
        } catch (java.io.IOException e) {
            throw new AssertionError("an audit line is not JSON", e);
        }
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
        logger.removeHandler(this);
    }
}
