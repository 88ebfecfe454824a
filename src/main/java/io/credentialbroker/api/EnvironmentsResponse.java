package io.credentialbroker.api;

import java.time.Instant;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;

/** The environments a caller may use, with the state of each one's token. */
public record EnvironmentsResponse(List<EnvironmentView> environments) {

    /**
     * @param name
     *            the environment's name, as used in token requests
     * @param tenantId
     *            the Entra tenant every token of the environment comes from (its pin)
     * @param cloud
     *            {@code public}, {@code usgov} or {@code china}
     * @param resource
     *            the Partner Center resource its tokens are for
     * @param tokenState
     *            {@code fresh}, {@code refreshing}, {@code stale-serving} or {@code unavailable}
     * @param expiresAt
     *            when the cached token expires, if there is one
     * @param lastError
     *            the stable code of the last failure, while it lasts
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record EnvironmentView(String name, String tenantId, String cloud, String resource, String tokenState,
            Instant expiresAt,
            String lastError) {
    }
}
