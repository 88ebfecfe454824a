package io.credentialbroker.audit;

/**
 * What an audit event is about. Each constant writes as its {@link #value()} in the {@code action}
 * field, the string operators filter on.
 */
public enum AuditAction {

    /** A caller asked for a token. */
    TOKEN_ISSUE("token.issue"),
    /** The broker minted a token from Azure AD (warm-up, refresh, re-read, rotation proof). */
    TOKEN_MINT("token.mint"),
    /** A caller read an environment's credential or its versions. */
    CREDENTIALS_READ("credentials.read"),
    /** A caller rotated an environment's key. */
    CREDENTIALS_ROTATE("credentials.rotate"),
    /** A caller restored an earlier credential version. */
    CREDENTIALS_RESTORE("credentials.restore"),
    /** A caller cancelled a rotation that was still proving. */
    CREDENTIALS_ROTATE_CANCEL("credentials.rotate.cancel"),
    /** A caller asked for a rotation's state. */
    CREDENTIALS_ROTATION_READ("credentials.rotation.read"),
    /** The broker switched to a credential version another replica stored. */
    CREDENTIALS_RELOAD("credentials.reload"),
    /** The audit trail itself lost events: its queue was full (see {@link AuditHandler}). */
    AUDIT_OVERFLOW("audit.overflow");

    private final String value;

    AuditAction(String value) {
        this.value = value;
    }

    public String value() {
        return value;
    }
}
