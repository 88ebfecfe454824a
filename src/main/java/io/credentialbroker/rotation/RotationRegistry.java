package io.credentialbroker.rotation;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import io.credentialbroker.environment.Environment;

/**
 * The rotations this replica runs, by id in start order: their state is fresher here than in their
 * records, and only this replica can stop their next attempt at once. Finished ones are kept for
 * lookup for {@code retention}, and never more than {@value #MAX_FINISHED} of them, oldest
 * forgotten first. Which rotation of an environment may prove is decided across replicas by the
 * records' index ({@link RotationRecords#claim}); here only two requests on this replica are kept
 * from setting up a rotation of the same environment at once. Lock order: the registry, then a
 * rotation.
 */
final class RotationRegistry {

    /** Finished rotations kept for lookup at most, whatever their age. */
    static final int MAX_FINISHED = 100;

    private final Duration retention;
    private final Map<String, Rotation> rotations = new LinkedHashMap<>();
    /** Environments whose rotation is being set up (reading the store, claiming the index). */
    private final Set<String> preparing = new HashSet<>();

    RotationRegistry(Duration retention) {
        this.retention = retention;
    }

    /**
     * Holds the environment for a rotation being set up, until {@link #release}.
     *
     * @throws RotationRefusedException
     *             if a rotation of the environment is being set up on this replica
     */
    synchronized void reserve(Environment environment, Instant now) {
        forgetOld(now);
        if (preparing.contains(environment.name())) {
            throw new RotationRefusedException(RotationRefusedException.Reason.ROTATION_IN_PROGRESS,
                    environment.name(), "rotation_in_progress", null, "Another rotation of environment '"
                            + environment.name() + "' is being started; wait for its outcome or cancel it, then"
                            + " read the current version again.");
        }
        preparing.add(environment.name());
    }

    /** Ends the reservation of {@link #reserve}, whether or not a rotation was added. */
    synchronized void release(Environment environment) {
        preparing.remove(environment.name());
    }

    synchronized void add(Rotation rotation) {
        rotations.put(rotation.id, rotation);
    }

    /** The rotation with this id of this environment, if this replica runs (or ran) it. */
    synchronized Optional<Rotation> find(Environment environment, String id, Instant now) {
        forgetOld(now);
        Rotation rotation = id == null ? null : rotations.get(id);
        if (rotation == null || !rotation.environment.name().equals(environment.name())) {
            return Optional.empty();
        }
        return Optional.of(rotation);
    }

    private void forgetOld(Instant now) {
        Instant cutoff = now.minus(retention);
        rotations.values().removeIf(rotation -> rotation.finishedBefore(cutoff));
        List<Rotation> finished = new ArrayList<>();
        for (Rotation rotation : rotations.values()) {
            if (rotation.finishedBefore(Instant.MAX)) {
                finished.add(rotation);
            }
        }
        Iterator<Rotation> oldestFirst = finished.iterator();
        for (int excess = finished.size() - MAX_FINISHED; excess > 0 && oldestFirst.hasNext(); excess--) {
            rotations.remove(oldestFirst.next().id);
        }
    }
}
