package io.credentialbroker.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.credentialbroker.audit.AuditHandler;
import io.credentialbroker.audit.AuditLog;

/**
 * The audit events the running broker writes while this is open, exactly as operators get them: the
 * text the {@value AuditLog#CATEGORY} category's own handler writes to standard output, the very
 * string it turned into bytes, split into lines here (not the log records it was given). Reading
 * waits until every event recorded so far has been written (the handler writes on a thread of its
 * own).
 */
public final class CapturedAudit implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WRITTEN_WITHIN = Duration.ofSeconds(10);

    private final AuditHandler handler = AuditHandler.instance();
    /** What the handler wrote to standard output, write by write, as written. */
    private final List<String> written = new CopyOnWriteArrayList<>();
    private final Consumer<String> tap = written::add;

    private CapturedAudit() {
        // events of earlier tests still being written are not this capture's
        handler.flush(WRITTEN_WITHIN);
        handler.tap(tap);
    }

    public static CapturedAudit start() {
        return new CapturedAudit();
    }

    /** Every line, as written. */
    public String text() {
        return String.join("\n", lines());
    }

    /**
     * The lines one by one, split from the bytes as written, as operators' tools read them: every write
     * ends with a newline, and no line is empty.
     */
    public List<String> lines() {
        if (!handler.flush(WRITTEN_WITHIN)) {
            throw new AssertionError("the audit handler did not write its queued events within " + WRITTEN_WITHIN);
        }
        List<String> lines = new ArrayList<>();
        for (String write : written) {
            if (!write.endsWith("\n")) {
                throw new AssertionError("an audit write did not end with a newline: " + write);
            }
            for (String line : write.substring(0, write.length() - 1).split("\n", -1)) {
                if (line.isBlank()) {
                    throw new AssertionError("the audit trail holds an empty line");
                }
                lines.add(line);
            }
        }
        return lines;
    }

    /** Every event, in order. */
    public List<JsonNode> events() {
        return lines().stream().map(CapturedAudit::parse).toList();
    }

    /** The events of one environment, in order. */
    public List<JsonNode> events(String environment) {
        return events().stream().filter(event -> environment.equals(event.path("environment").asText())).toList();
    }

    private static JsonNode parse(String line) {
        try {
            JsonNode event = JSON.readTree(line);
            if (!event.isObject()) {
                throw new AssertionError("an audit line is not a JSON object: " + line);
            }
            return event;
        } catch (java.io.IOException e) {
            throw new AssertionError("an audit line is not JSON", e);
        }
    }

    @Override
    public void close() {
        handler.untap(tap);
    }
}
