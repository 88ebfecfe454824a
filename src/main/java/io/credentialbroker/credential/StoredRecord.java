package io.credentialbroker.credential;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * One version of a record kept beside an environment's credential ({@link EnvironmentRecords}).
 *
 * @param version
 *            its version number in the store
 * @param createdTime
 *            when the store wrote it, if it said
 * @param fields
 *            its values; empty for a version that was deleted
 */
public record StoredRecord(int version, Instant createdTime, Map<String, String> fields) {

    public StoredRecord {
        if (version < 1) {
            throw new IllegalArgumentException("a stored version is at least 1, was " + version);
        }
        fields = Map.copyOf(Objects.requireNonNull(fields, "fields"));
    }

    /** Whether this version holds nothing: deleted, or written empty. */
    public boolean isEmpty() {
        return fields.isEmpty();
    }

    /** Fields may hold secrets: only their names are shown. */
    @Override
    public String toString() {
        return "StoredRecord[version=" + version + ", createdTime=" + createdTime + ", fields="
                + fields.keySet().stream().sorted().toList() + "]";
    }
}
