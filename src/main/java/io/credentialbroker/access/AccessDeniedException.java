package io.credentialbroker.access;

/**
 * An authenticated caller asked for something no grant allows it. The message is the broker's own
 * and safe to return: it repeats what the caller asked, never what exists.
 */
public class AccessDeniedException extends RuntimeException {

    public AccessDeniedException(String message) {
        super(message, null, false, false);
    }
}
