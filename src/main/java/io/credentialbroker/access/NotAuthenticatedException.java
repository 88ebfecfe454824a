package io.credentialbroker.access;

/** The request's verified token does not identify a caller (no subject claim). */
public class NotAuthenticatedException extends RuntimeException {

    public NotAuthenticatedException(String message) {
        super(message, null, false, false);
    }
}
