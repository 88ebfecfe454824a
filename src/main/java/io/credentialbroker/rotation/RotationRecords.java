package io.credentialbroker.rotation;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

import org.jboss.logging.Logger;

import io.credentialbroker.credential.CredentialStoreException;
import io.credentialbroker.credential.CredentialVersionConflictException;
import io.credentialbroker.credential.EnvironmentRecords;
import io.credentialbroker.credential.StoredRecord;
import io.credentialbroker.environment.Environment;

/**
 * Rotation records in the store, shared by every replica: one per rotation at
 * {@code <vault-path>/rotations/<id>}, and one index per environment at
 * {@code <vault-path>/rotations/index} naming the rotation started last ({@code current}) and the
 * earlier ones still kept ({@code earlier}, oldest first, each with when it ended). Taking the
 * index by check-and-set is how at most one rotation per environment proves across replicas;
 * starting a rotation is also when records past {@code retention}, and beyond {@value #MAX_KEPT},
 * are deleted, so records never pile up (docs/upstream-behaviour.md, "Rotation records").
 */
final class RotationRecords {

    private static final Logger LOG = Logger.getLogger(RotationRecords.class);

    /** Rotation records kept at most per environment (the current one included), whatever their age. */
    static final int MAX_KEPT = RotationRegistry.MAX_FINISHED;

    static final String INDEX = RotationRecord.PREFIX + "index";
    private static final Pattern ID = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    /** Check-and-set races lost in a row before giving up; each is a concurrent write that won. */
    private static final int RACES = 5;

    private final EnvironmentRecords store;
    private final Clock clock;
    private final RotationPolicy policy;

    RotationRecords(EnvironmentRecords store, Clock clock, RotationPolicy policy) {
        this.store = Objects.requireNonNull(store, "store");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.policy = Objects.requireNonNull(policy, "policy");
    }

    /**
     * Whether {@code id} can name a rotation at all (a random UUID): anything else is never looked up.
     */
    static boolean isRotationId(String id) {
        return id != null && ID.matcher(id).matches();
    }

    /**
     * The rotation's record, if the store holds a readable one.
     *
     * @throws CredentialStoreException
     *             if the store cannot be read
     */
    Optional<RotationRecord> read(Environment environment, String id) {
        Optional<StoredRecord> stored = store.readRecord(environment, RotationRecord.PREFIX + id);
        if (stored.isEmpty() || stored.get().isEmpty()) {
            return Optional.empty();
        }
        try {
            RotationRecord found = RotationRecord.from(stored.get());
            return found.status().id().equals(id) && found.status().environment().equals(environment.name())
                    ? Optional.of(found)
                    : Optional.empty();
        } catch (IllegalArgumentException e) {
            LOG.warnf("The rotation record %s of environment '%s' is unreadable (%s); it is treated as absent", id,
                    environment.name(), e.getMessage());
            return Optional.empty();
        }
    }

    /**
     * Writes {@code record} if the store's version is still {@code record.version()} (0: create it).
     *
     * @return the record at its new version
     * @throws CredentialVersionConflictException
     *             if another writer changed it first
     */
    RotationRecord write(Environment environment, RotationRecord record) {
        StoredRecord stored = store.writeRecord(environment, RotationRecord.PREFIX + record.status().id(),
                record.fields(), record.version());
        return record.atVersion(stored.version());
    }

    /** Deletes a record that was never taken into the index; a failure leaves it for an operator. */
    void deleteQuietly(Environment environment, String id) {
        try {
            store.deleteRecord(environment, RotationRecord.PREFIX + id);
        } catch (CredentialStoreException e) {
            LOG.warnf("Could not delete the unused rotation record %s of environment '%s' (%s)", id,
                    environment.name(), e.reason().code());
        }
    }

    /**
     * Makes {@code id} (whose record exists) the environment's current rotation, unless another one
     * still blocks it; moves the one it replaces to the earlier ones, and deletes records past their
     * retention.
     *
     * @throws RotationRefusedException
     *             ({@code rotation_in_progress}) if another rotation of the environment is proving,
     *             storing or unknown, on any replica
     * @throws CredentialStoreException
     *             if the store cannot be read or written
     */
    void claim(Environment environment, String id) {
        for (int race = 0; race < RACES; race++) {
            Optional<StoredRecord> stored = store.readRecord(environment, INDEX);
            int indexVersion = stored.map(StoredRecord::version).orElse(0);
            Map<String, String> fields = stored.map(StoredRecord::fields).orElse(Map.of());
            String current = fields.get("current");
            List<Entry> earlier = Entry.parse(fields.get("earlier"));
            Instant now = clock.instant();
            if (current != null && !current.isEmpty()) {
                Optional<RotationRecord> running = read(environment, current);
                if (running.isPresent() && running.get().blocksOthers(now, policy.proofTimeout())) {
                    throw inProgress(environment, current);
                }
                earlier.add(new Entry(current,
                        running.map(record -> record.endedAt(policy.proofTimeout())).orElse(now)));
            }
            List<Entry> kept = dropExpired(environment, earlier, now);
            try {
                store.writeRecord(environment, INDEX, Map.of("current", id, "earlier", Entry.format(kept)),
                        indexVersion);
                return;
            } catch (CredentialVersionConflictException e) {
                // another replica started or tidied at the same time: look again
            }
        }
        throw inProgress(environment, null);
    }

    /**
     * Deletes the records that ended before the retention, and the oldest beyond {@value #MAX_KEPT};
     * the entries whose record could not be deleted stay, to be tried at the next start.
     */
    private List<Entry> dropExpired(Environment environment, List<Entry> earlier, Instant now) {
        Instant cutoff = now.minus(policy.retention());
        int excess = earlier.size() - (MAX_KEPT - 1);
        List<Entry> kept = new ArrayList<>();
        boolean storeFailing = false;
        for (int i = 0; i < earlier.size(); i++) {
            Entry entry = earlier.get(i);
            boolean drop = i < excess || entry.endedAt().isBefore(cutoff);
            if (drop && !storeFailing) {
                try {
                    store.deleteRecord(environment, RotationRecord.PREFIX + entry.id());
                    continue;
                } catch (CredentialStoreException e) {
                    storeFailing = true;
                    LOG.warnf("Could not delete rotation records of environment '%s' past their retention (%s);"
                            + " trying again at the next rotation", environment.name(), e.reason().code());
                }
            }
            kept.add(entry);
        }
        return kept;
    }

    private static RotationRefusedException inProgress(Environment environment, String id) {
        String which = id == null ? "Another rotation" : "Rotation " + id;
        return new RotationRefusedException(RotationRefusedException.Reason.ROTATION_IN_PROGRESS, environment.name(),
                "rotation_in_progress", null, which + " of environment '" + environment.name() + "' is still"
                        + " proving or being stored; wait for its outcome or cancel it, then read the current"
                        + " version again.");
    }

    /** One earlier rotation in the index: its id and when it ended. */
    record Entry(String id, Instant endedAt) {

        static List<Entry> parse(String value) {
            List<Entry> entries = new ArrayList<>();
            if (value == null || value.isEmpty()) {
                return entries;
            }
            for (String item : value.split(",")) {
                int at = item.indexOf('@');
                if (at > 0 && isRotationId(item.substring(0, at))) {
                    try {
                        entries.add(new Entry(item.substring(0, at), Instant.parse(item.substring(at + 1))));
                    } catch (RuntimeException e) {
                        // not an entry this broker wrote: skip it
                    }
                }
            }
            return entries;
        }

        static String format(List<Entry> entries) {
            return String.join(",", entries.stream().map(entry -> entry.id() + "@" + entry.endedAt()).toList());
        }
    }
}
