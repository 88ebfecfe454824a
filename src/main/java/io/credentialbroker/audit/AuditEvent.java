package io.credentialbroker.audit;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * One thing that happened to a token or a credential, and who did it: what the audit trail is made
 * of. It names tokens by fingerprint only and never holds a secret. Build one with the factory for
 * its kind ({@link #tokenIssued}, {@link #accessDenied}, {@link #rotationFailed}, ...); each sets
 * the fields that kind carries and leaves the others empty, and empty fields are not written
 * ({@link AuditLog} writes the line).
 *
 * @param time
 *            when it happened
 * @param caller
 *            who asked: the caller's name from its verified token, or {@value #BROKER} for the
 *            broker's own actions
 * @param environment
 *            the environment concerned
 * @param action
 *            what was asked
 * @param outcome
 *            how it ended
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
 * @param rotationId
 *            the rotation this event is part of, when it is one
 * @param azureAdErrorCodes
 *            the AADSTS numbers Azure AD answered with, when an Azure AD refusal is the reason
 * @param expectedTenant
 *            for a tenant mismatch, the tenant ID the environment is pinned to (not a secret)
 * @param foundTenant
 *            for a tenant mismatch, the tenant ID the token named, if it named one
 * @param droppedEvents
 *            for an audit overflow, how many events could not be written
 * @param suppressedEvents
 *            for a rate-limit refusal, how many of the caller's refusals before it were left out of
 *            the trail
 */
public record AuditEvent(Instant time, String caller, String environment, AuditAction action, AuditOutcome outcome,
        Integer credentialVersion, Integer fromVersion, Integer toVersion, String tokenFingerprint,
        String errorCode, String requestId, String rotationId, List<Integer> azureAdErrorCodes, String expectedTenant,
        String foundTenant, Long droppedEvents, Long suppressedEvents) {

    /** The caller named in events of the broker's own doing. */
    public static final String BROKER = "broker";

    /** An event of a kind that never leaves others out (every kind but a rate-limit refusal). */
    public AuditEvent(Instant time, String caller, String environment, AuditAction action, AuditOutcome outcome,
            Integer credentialVersion, Integer fromVersion, Integer toVersion, String tokenFingerprint,
            String errorCode, String requestId, String rotationId, List<Integer> azureAdErrorCodes,
            String expectedTenant, String foundTenant, Long droppedEvents) {
        this(time, caller, environment, action, outcome, credentialVersion, fromVersion, toVersion, tokenFingerprint,
                errorCode, requestId, rotationId, azureAdErrorCodes, expectedTenant, foundTenant, droppedEvents, null);
    }

    public AuditEvent {
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(caller, "caller");
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(outcome, "outcome");
        azureAdErrorCodes = azureAdErrorCodes == null ? List.of() : List.copyOf(azureAdErrorCodes);
    }

    private static AuditEvent of(Instant time, String caller, String environment, AuditAction action,
            AuditOutcome outcome) {
        return new AuditEvent(time, caller, environment, action, outcome, null, null, null, null, null, null, null,
                List.of(), null, null, null);
    }

    // ---- tokens ---------------------------------------------------------------------------------

    /** A token handed to a caller, named by its fingerprint. */
    public static AuditEvent tokenIssued(Instant time, String caller, String environment, int credentialVersion,
            String tokenFingerprint, String requestId) {
        return new AuditEvent(time, caller, environment, AuditAction.TOKEN_ISSUE, AuditOutcome.GRANTED,
                credentialVersion, null, null, tokenFingerprint, null, requestId, null, List.of(), null, null, null);
    }

    /** A token request that was admitted but could not be answered with a token. */
    public static AuditEvent tokenFailed(Instant time, String caller, String environment, String errorCode,
            String requestId) {
        return of(time, caller, environment, AuditAction.TOKEN_ISSUE, AuditOutcome.FAILED).withError(errorCode)
                .withRequestId(requestId);
    }

    /**
     * A request refused because the caller is over its rate limit: a token request, or one that no
     * grant allows ({@code action} is what was asked).
     */
    public static AuditEvent rateLimited(Instant time, String caller, String environment, AuditAction action,
            String requestId) {
        return of(time, caller, environment, action, AuditOutcome.THROTTLED).withError("rate_limited")
                .withRequestId(requestId);
    }

    /**
     * A token Azure AD issued for the environment named another tenant than the environment's pin (or
     * none): refused, never cached, served or taken as proof.
     *
     * @param foundTenant
     *            the {@code tid} the token carried; null when it carried none or was not a JWT
     */
    public static AuditEvent tenantMismatch(Instant time, String environment, String expectedTenant,
            String foundTenant) {
        Objects.requireNonNull(expectedTenant, "expectedTenant");
        return new AuditEvent(time, BROKER, environment, AuditAction.TOKEN_MINT, AuditOutcome.REFUSED, null, null,
                null, null, "tenant_mismatch", null, null, List.of(), expectedTenant, foundTenant, null);
    }

    // ---- app+user -------------------------------------------------------------------------------

    /** An app+user token handed to a caller, named by its fingerprint. */
    public static AuditEvent appUserTokenIssued(Instant time, String caller, String environment,
            int credentialVersion, String tokenFingerprint, String requestId) {
        return new AuditEvent(time, caller, environment, AuditAction.APP_USER_TOKEN_ISSUE, AuditOutcome.GRANTED,
                credentialVersion, null, null, tokenFingerprint, null, requestId, null, List.of(), null, null, null);
    }

    /** An app+user token request that was admitted but could not be answered with a token. */
    public static AuditEvent appUserTokenFailed(Instant time, String caller, String environment, String errorCode,
            String requestId) {
        return of(time, caller, environment, AuditAction.APP_USER_TOKEN_ISSUE, AuditOutcome.FAILED)
                .withError(errorCode).withRequestId(requestId);
    }

    /**
     * The broker exchanged the environment's refresh token and stored its successor: the app+user
     * record went from {@code fromVersion} to {@code toVersion}.
     */
    public static AuditEvent appUserExchanged(Instant time, String environment, int fromVersion, int toVersion) {
        return new AuditEvent(time, BROKER, environment, AuditAction.APP_USER_EXCHANGE, AuditOutcome.SUCCEEDED, null,
                fromVersion, toVersion, null, null, null, null, List.of(), null, null, null);
    }

    /**
     * Something a caller did to an environment's app+user consent that changed it, or was refused.
     *
     * @param fromVersion
     *            the record's version before, if known
     * @param toVersion
     *            the version written, if one was
     * @param errorCode
     *            why it failed, if it did
     */
    public static AuditEvent appUser(Instant time, String caller, String environment, AuditAction action,
            AuditOutcome outcome, Integer fromVersion, Integer toVersion, String errorCode,
            List<Integer> azureAdErrorCodes, String requestId) {
        return new AuditEvent(time, caller, environment, action, outcome, null, fromVersion, toVersion, null, errorCode,
                requestId, null, azureAdErrorCodes, null, null, null);
    }

    // ---- access ---------------------------------------------------------------------------------

    /** A request refused because no grant gives the caller the permission the action needs. */
    public static AuditEvent accessDenied(Instant time, String caller, String environment, AuditAction action,
            String requestId) {
        return of(time, caller, environment, action, AuditOutcome.DENIED).withError("not_granted")
                .withRequestId(requestId);
    }

    // ---- credentials ----------------------------------------------------------------------------

    /** A caller read the credential (or its history), whose current version is {@code version}. */
    public static AuditEvent credentialsRead(Instant time, String caller, String environment, int version) {
        return new AuditEvent(time, caller, environment, AuditAction.CREDENTIALS_READ, AuditOutcome.SUCCEEDED,
                version, null, null, null, null, null, null, List.of(), null, null, null);
    }

    /** A caller's read of the credential failed. */
    public static AuditEvent credentialsReadFailed(Instant time, String caller, String environment,
            String errorCode) {
        return of(time, caller, environment, AuditAction.CREDENTIALS_READ, AuditOutcome.FAILED).withError(errorCode);
    }

    /** The broker switched from {@code fromVersion} to {@code toVersion}, stored by another replica. */
    public static AuditEvent credentialsReloaded(Instant time, String environment, int fromVersion, int toVersion) {
        return new AuditEvent(time, BROKER, environment, AuditAction.CREDENTIALS_RELOAD, AuditOutcome.SUCCEEDED,
                toVersion, fromVersion, toVersion, null, null, null, null, List.of(), null, null, null);
    }

    // ---- rotations (action: credentials.rotate or credentials.restore) ---------------------------

    /** A rotation started proving its key; {@code fromVersion} stays current meanwhile. */
    public static AuditEvent rotationProving(Instant time, String caller, String environment, AuditAction action,
            int fromVersion) {
        return rotation(time, caller, environment, action, AuditOutcome.PROVING, fromVersion, null, null, List.of());
    }

    /** A rotation stored {@code toVersion} in place of {@code fromVersion}. */
    public static AuditEvent rotationSucceeded(Instant time, String caller, String environment, AuditAction action,
            int fromVersion, int toVersion) {
        return rotation(time, caller, environment, action, AuditOutcome.SUCCEEDED, fromVersion, toVersion, null,
                List.of());
    }

    /** A rotation that was tried and stored nothing, with Azure AD's codes if Azure AD refused. */
    public static AuditEvent rotationFailed(Instant time, String caller, String environment, AuditAction action,
            int fromVersion, String errorCode, List<Integer> azureAdErrorCodes) {
        return rotation(time, caller, environment, action, AuditOutcome.FAILED, fromVersion, null, errorCode,
                azureAdErrorCodes);
    }

    /**
     * A rotation refused before anything was asked of Azure AD (a stale version, a rotation in
     * progress).
     */
    public static AuditEvent rotationRejected(Instant time, String caller, String environment, AuditAction action,
            int fromVersion, String errorCode) {
        return rotation(time, caller, environment, action, AuditOutcome.REJECTED, fromVersion, null, errorCode,
                List.of());
    }

    /** A rotation cancelled while proving. */
    public static AuditEvent rotationCancelled(Instant time, String caller, String environment, int fromVersion) {
        return rotation(time, caller, environment, AuditAction.CREDENTIALS_ROTATE_CANCEL, AuditOutcome.SUCCEEDED,
                fromVersion, null, null, List.of());
    }

    /**
     * A cancel recorded in the rotation's record for the replica proving it, which ends it at its next
     * attempt.
     */
    public static AuditEvent rotationCancelRequested(Instant time, String caller, String environment,
            int fromVersion) {
        return rotation(time, caller, environment, AuditAction.CREDENTIALS_ROTATE_CANCEL, AuditOutcome.REQUESTED,
                fromVersion, null, null, List.of());
    }

    /** A cancel refused: the rotation had already finished. */
    public static AuditEvent rotationCancelRejected(Instant time, String caller, String environment, int fromVersion,
            String errorCode) {
        return rotation(time, caller, environment, AuditAction.CREDENTIALS_ROTATE_CANCEL, AuditOutcome.REJECTED,
                fromVersion, null, errorCode, List.of());
    }

    private static AuditEvent rotation(Instant time, String caller, String environment, AuditAction action,
            AuditOutcome outcome, int fromVersion, Integer toVersion, String errorCode,
            List<Integer> azureAdErrorCodes) {
        return new AuditEvent(time, caller, environment, action, outcome, null, fromVersion, toVersion, null,
                errorCode, null, null, azureAdErrorCodes, null, null, null);
    }

    // ---- the trail itself -----------------------------------------------------------------------

    /** {@code dropped} events could not be written: the audit queue was full. */
    static AuditEvent overflow(Instant time, long dropped) {
        return new AuditEvent(time, BROKER, null, AuditAction.AUDIT_OVERFLOW, AuditOutcome.FAILED, null, null, null,
                null, "audit_queue_full", null, null, List.of(), null, null, dropped);
    }

    /** This event, about the rotation {@code id}: every event of one rotation carries its id. */
    public AuditEvent withRotation(String id) {
        return new AuditEvent(time, caller, environment, action, outcome, credentialVersion, fromVersion, toVersion,
                tokenFingerprint, errorCode, requestId, id, azureAdErrorCodes, expectedTenant, foundTenant,
                droppedEvents, suppressedEvents);
    }

    /** This event, in the request {@code id}. */
    public AuditEvent withRequestId(String id) {
        return new AuditEvent(time, caller, environment, action, outcome, credentialVersion, fromVersion, toVersion,
                tokenFingerprint, errorCode, id, rotationId, azureAdErrorCodes, expectedTenant, foundTenant,
                droppedEvents, suppressedEvents);
    }

    /** This event, saying that {@code count} like it before were left out of the trail. */
    public AuditEvent withSuppressedEvents(long count) {
        return new AuditEvent(time, caller, environment, action, outcome, credentialVersion, fromVersion, toVersion,
                tokenFingerprint, errorCode, requestId, rotationId, azureAdErrorCodes, expectedTenant, foundTenant,
                droppedEvents, count);
    }

    private AuditEvent withError(String code) {
        return new AuditEvent(time, caller, environment, action, outcome, credentialVersion, fromVersion, toVersion,
                tokenFingerprint, code, requestId, rotationId, azureAdErrorCodes, expectedTenant, foundTenant,
                droppedEvents, suppressedEvents);
    }
}
