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
    /** A caller asked for an app+user token. */
    APP_USER_TOKEN_ISSUE("app_user.token.issue"),
    /** The broker exchanged an environment's app+user refresh token and wrote the new one back. */
    APP_USER_EXCHANGE("app_user.exchange"),
    /** A caller read an environment's app+user consent metadata. */
    APP_USER_READ("app_user.read"),
    /** A caller installed an app+user refresh token (by hand, or through a consent's callback). */
    APP_USER_INSTALL("app_user.install"),
    /** A caller retired an environment's app+user consent. */
    APP_USER_RETIRE("app_user.retire"),
    /** A caller started an admin agent's consent, or its callback arrived. */
    APP_USER_CONSENT("app_user.consent"),
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
