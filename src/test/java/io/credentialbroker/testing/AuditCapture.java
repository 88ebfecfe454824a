package io.credentialbroker.testing;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.credentialbroker.audit.AuditLog;

/**
 * Collects the audit events the broker writes to its audit log category, parsed from their JSON.
 */
public final class AuditCapture extends Handler implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<String> lines = new CopyOnWriteArrayList<>();
    private final Logger logger = Logger.getLogger(AuditLog.CATEGORY);

    private AuditCapture() {
        logger.addHandler(this);
    }

    public static AuditCapture start() {
        return new AuditCapture();
    }

    /** Every event so far, as JSON. */
    public List<JsonNode> events() {
        return lines.stream().map(line -> {
            try {
                return JSON.readTree(line);
            } catch (JsonProcessingException e) {
                throw new AssertionError("an audit event is not JSON: " + line, e);
            }
        }).toList();
    }

    /** The raw lines, for leak checks. */
    public List<String> lines() {
        return List.copyOf(lines);
    }

    @Override
    public void publish(LogRecord record) {
        lines.add(record.getMessage());
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
        logger.removeHandler(this);
    }
}
