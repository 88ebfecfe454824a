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
 * The rotations this replica knows, by id in start order: at most one proving per environment (a
 * second would only lose the check-and-set race), and finished ones kept for lookup for
 * {@code retention}, and never more than {@value #MAX_FINISHED} of them, oldest forgotten first.
 * Lock order: the registry, then a rotation.
 */
final class RotationRegistry {

    /** Finished rotations kept for lookup at most, whatever their age. */
    static final int MAX_FINISHED = 100;

    private final Duration retention;
    private final Map<String, Rotation> rotations = new LinkedHashMap<>();
    /** Environments whose rotation is being set up (reading the store). */
    private final Set<String> preparing = new HashSet<>();

    RotationRegistry(Duration retention) {
        this.retention = retention;
    }

    /**
     * Holds the environment for a rotation being set up, until {@link #add} or {@link #release}.
     *
     * @throws RotationRefusedException
     *             if a rotation of the environment is proving, or being set up
     */
    synchronized void reserve(Environment environment, Instant now) {
        forgetOld(now);
        Optional<Rotation> running = rotations.values().stream()
                .filter(rotation -> rotation.environment.name().equals(environment.name())
                        && rotation.blocksOthers(now))
                .findFirst();
        if (running.isPresent() || preparing.contains(environment.name())) {
            String which = running.map(rotation -> "Rotation " + rotation.id).orElse("Another rotation");
            throw new RotationRefusedException(RotationRefusedException.Reason.ROTATION_IN_PROGRESS,
                    environment.name(), "rotation_in_progress", null,
                    which + " of environment '" + environment.name() + "' is still proving; wait for its"
                            + " outcome or cancel it, then read the current version again.");
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

    /**
     * The rotation with this id, of this environment.
     *
     * @throws UnknownRotationException
     *             if there is none (another environment's is as unknown here as a missing one)
     */
    synchronized Rotation find(Environment environment, String id, Instant now) {
        forgetOld(now);
        Rotation rotation = id == null ? null : rotations.get(id);
        if (rotation == null || !rotation.environment.name().equals(environment.name())) {
            throw new UnknownRotationException(environment.name());
        }
        return rotation;
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
