package io.credentialbroker.testing;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.jboss.logmanager.ExtLogRecord;

/**
 * The log records a test provokes, each as its formatted message with the stack trace of what it
 * carries, for leak checks: {@link #everything} of one category at every level, or
 * {@link #asConfigured} what the application writes from every category.
 */
public final class CapturedLogs extends Handler implements AutoCloseable {

    private final Logger logger;
    private final Level previous;
    private final boolean everything;
    private final List<String> lines = new CopyOnWriteArrayList<>();

    private CapturedLogs(String category, boolean everything) {
        this.logger = Logger.getLogger(category);
        this.previous = logger.getLevel();
        this.everything = everything;
        if (everything) {
            setLevel(Level.ALL);
            logger.setLevel(Level.ALL);
            // kept off the console: some of what is captured may be a token
            logger.setUseParentHandlers(false);
        }
        logger.addHandler(this);
    }

    /** Every record of {@code category} and its children, at every level, kept off the console. */
    public static CapturedLogs everything(String category) {
        return new CapturedLogs(category, true);
    }

    /** What the application writes, from every category, at the levels it is configured with. */
    public static CapturedLogs asConfigured() {
        return new CapturedLogs("", false);
    }

    @Override
    public void publish(LogRecord record) {
        String message = record instanceof ExtLogRecord formatted
                ? formatted.getFormattedMessage()
                : record.getMessage();
        if (record.getThrown() != null) {
            StringWriter trace = new StringWriter();
            record.getThrown().printStackTrace(new PrintWriter(trace));
            message += "\n" + trace;
        }
        lines.add(message);
    }

    public String text() {
        return String.join("\n", lines);
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
        logger.removeHandler(this);
        if (everything) {
            logger.setUseParentHandlers(true);
            logger.setLevel(previous);
        }
    }
}
