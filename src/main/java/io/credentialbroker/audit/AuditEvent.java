package io.credentialbroker.audit;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * One thing that happened to a token or a credential, and who did it: what the audit trail is made
 * of. It names tokens by fingerprint only and never holds a secret.
 *
 * @param time
 *            when it happened
 * @param caller
 *            who asked: the caller's name from its verified token, or {@code broker} for the
 *            broker's own actions
 * @param environment
 *            the environment concerned
 * @param action
 *            what was asked, e.g. {@code token.issue}, {@code credentials.read},
 *            {@code credentials.rotate}
 * @param outcome
 *            {@code granted}, {@code denied}, {@code succeeded}, {@code failed}, ...
 * @param credentialVersion
 *            the credential version involved, if any
 * @param fromVersion
 *            for a change, the version it replaced
 * @param toVersion
 *            for a change, the version it wrote
 * @param tokenFingerprint
 *            the first 12 hex characters of the SHA-256 of the token handed out
 * @param errorCode
 *            a stable reason code when the outcome is not a success
 * @param requestId
 *            the HTTP request this happened in, when there was one
 * @param azureAdErrorCodes
 *            the AADSTS numbers Azure AD answered with, when an Azure AD refusal is the reason
 * @param expectedTenant
 *            for a tenant check, the tenant ID the environment is pinned to
 * @param foundTenant
 *            for a tenant check, the tenant ID the token named, if any
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record AuditEvent(Instant time, String caller, String environment, String action, String outcome,
        Integer credentialVersion, Integer fromVersion, Integer toVersion, String tokenFingerprint,
        String errorCode, String requestId, List<Integer> azureAdErrorCodes, String expectedTenant,
        String foundTenant) {

    public AuditEvent {
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(caller, "caller");
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(outcome, "outcome");
        azureAdErrorCodes = azureAdErrorCodes == null ? List.of() : List.copyOf(azureAdErrorCodes);
    }

    /** An event that involves no Azure AD refusal. */
    public AuditEvent(Instant time, String caller, String environment, String action, String outcome,
            Integer credentialVersion, Integer fromVersion, Integer toVersion, String tokenFingerprint,
            String errorCode, String requestId) {
        this(time, caller, environment, action, outcome, credentialVersion, fromVersion, toVersion, tokenFingerprint,
                errorCode, requestId, List.of());
    }

    /** An event that involves no tenant check. */
    public AuditEvent(Instant time, String caller, String environment, String action, String outcome,
            Integer credentialVersion, Integer fromVersion, Integer toVersion, String tokenFingerprint,
            String errorCode, String requestId, List<Integer> azureAdErrorCodes) {
        this(time, caller, environment, action, outcome, credentialVersion, fromVersion, toVersion, tokenFingerprint,
                errorCode, requestId, azureAdErrorCodes, null, null);
    }

    /**
     * The broker refused a token Azure AD issued for {@code environment} because it does not come from
     * the tenant the environment is pinned to.
     *
     * @param foundTenant
     *            the token's {@code tid}, or null when it named none
     */
    public static AuditEvent tenantMismatch(Instant time, String environment, int credentialVersion,
            String expectedTenant, String foundTenant) {
        return new AuditEvent(time, "broker", environment, "token.mint", "refused", credentialVersion, null, null,
                null, "tenant_mismatch", null, List.of(), expectedTenant, foundTenant);
    }

    /** This event, in the request {@code id}. */
    public AuditEvent withRequestId(String id) {
        return new AuditEvent(time, caller, environment, action, outcome, credentialVersion, fromVersion, toVersion,
                tokenFingerprint, errorCode, id, azureAdErrorCodes, expectedTenant, foundTenant);
    }
}
