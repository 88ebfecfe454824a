package io.credentialbroker.credential;

import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * What the store knows about an environment's secret without reading it: the current version and
 * the versions it keeps.
 *
 * @param currentVersion
 *            the version reads return, and the one a check-and-set write must name
 * @param versions
 *            the versions kept, newest first; older ones have fallen away
 */
public record CredentialMetadata(int currentVersion, List<VersionMetadata> versions) {

    public CredentialMetadata {
        versions = Objects.requireNonNull(versions, "versions").stream()
                .sorted(Comparator.comparingInt(VersionMetadata::version).reversed()).toList();
    }

    /**
     * One kept version.
     *
     * @param version
     *            its number
     * @param createdTime
     *            when it was written, if the store says
     * @param deleted
     *            soft-deleted: its data cannot be read until undeleted
     * @param destroyed
     *            its data is gone for good
     */
    public record VersionMetadata(int version, Instant createdTime, boolean deleted, boolean destroyed) {

        /** Whether its data can be read. */
        public boolean isLive() {
            return !deleted && !destroyed;
        }
    }
}
