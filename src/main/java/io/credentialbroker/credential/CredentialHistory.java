package io.credentialbroker.credential;

import java.util.List;

/**
 * The versions of an environment's credential that can still be read, newest first; deleted and
 * destroyed versions, and those fallen away past the store's limit, are left out.
 *
 * @param currentVersion
 *            the version in force
 * @param versions
 *            the readable versions, newest first
 */
public record CredentialHistory(int currentVersion, List<CredentialSummary> versions) {

    public CredentialHistory {
        versions = List.copyOf(versions);
    }
}
