package io.credentialbroker.rotation;

/**
 * No rotation with this id exists for this environment, on any replica: it never did, or it
 * finished longer ago than {@code broker.rotation.retention}.
 */
public class UnknownRotationException extends RuntimeException {

    private final String environment;

    public UnknownRotationException(String environment) {
        super("unknown rotation", null, false, false);
        this.environment = environment;
    }

    public String environment() {
        return environment;
    }
}
