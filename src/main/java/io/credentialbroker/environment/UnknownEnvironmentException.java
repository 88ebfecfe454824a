package io.credentialbroker.environment;

/** A request named an environment the broker is not configured for. */
public class UnknownEnvironmentException extends RuntimeException {

    private final String requested;

    public UnknownEnvironmentException(String requested) {
        super("unknown environment", null, false, false);
        this.requested = requested;
    }

    /**
     * What the caller asked for; echo it only if {@link EnvironmentRegistry#isWellFormedName} says so.
     */
    public String requested() {
        return requested;
    }
}
