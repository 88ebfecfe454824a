package io.credentialbroker.api;

import java.time.Instant;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;

import io.credentialbroker.credential.CredentialHistory;
import io.credentialbroker.credential.CredentialSummary;

/** The stored versions of an environment's credential that can still be read, newest first. */
public record CredentialVersionsResponse(String environment, int currentVersion, List<VersionView> versions) {

    /**
     * @param usable
     *            false if what is stored at this version is not a credential; it cannot be restored
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record VersionView(int version, Instant createdTime, boolean current, boolean usable, String clientId,
            String domain, String secretHint) {
    }

    static CredentialVersionsResponse of(String environment, CredentialHistory history) {
        return new CredentialVersionsResponse(environment, history.currentVersion(),
                history.versions().stream().map(version -> view(version, history.currentVersion())).toList());
    }

    private static VersionView view(CredentialSummary summary, int current) {
        return new VersionView(summary.version(), summary.createdTime(), summary.version() == current,
                summary.usable(), summary.clientId(), summary.domain(), summary.secretHint());
    }
}
