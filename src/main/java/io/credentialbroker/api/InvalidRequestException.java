package io.credentialbroker.api;

/** The request itself is wrong; the message is the broker's own sentence and goes to the caller. */
class InvalidRequestException extends RuntimeException {

    private final String field;

    InvalidRequestException(String message) {
        this(null, message);
    }

    /**
     * @param field
     *            the field (or header) at fault, named in the problem; null if none is
     */
    InvalidRequestException(String field, String message) {
        super(message, null, false, false);
        this.field = field;
    }

    String field() {
        return field;
    }
}
