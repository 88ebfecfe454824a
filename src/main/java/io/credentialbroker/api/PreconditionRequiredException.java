package io.credentialbroker.api;

/**
 * A change was asked for without {@code If-Match} naming the version it starts from (RFC 6585,
 * 428): without it, a change could silently overwrite one the caller never saw.
 */
class PreconditionRequiredException extends RuntimeException {

    PreconditionRequiredException(String message) {
        super(message, null, false, false);
    }
}
