package io.credentialbroker.api;

/** The request itself is wrong; the message is the broker's own sentence and goes to the caller. */
class InvalidRequestException extends RuntimeException {

    InvalidRequestException(String message) {
        super(message, null, false, false);
    }
}
