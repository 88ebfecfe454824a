package io.credentialbroker.audit;

/** How what an audit event records ended; each writes as its {@link #value()}. */
public enum AuditOutcome {

    /** A token was handed out. */
    GRANTED("granted"),
    /** No grant allows it. */
    DENIED("denied"),
    /** The caller is over its rate limit. */
    THROTTLED("throttled"),
    /** It was tried and did not work. */
    FAILED("failed"),
    /** It was done. */
    SUCCEEDED("succeeded"),
    /** It was refused before anything was tried (a precondition, a state). */
    REJECTED("rejected"),
    /** A rotation's key is being proved against Azure AD. */
    PROVING("proving"),
    /**
     * Asked for and recorded, to be carried out by another replica (a cancel of a rotation another
     * replica proves).
     */
    REQUESTED("requested"),
    /** The broker refused what an upstream gave it (a token from the wrong tenant). */
    REFUSED("refused");

    private final String value;

    AuditOutcome(String value) {
        this.value = value;
    }

    public String value() {
        return value;
    }
}
