package io.credentialbroker.token;

import java.time.Instant;
import java.util.Optional;

/**
 * A snapshot of one environment's cache, for listings and probes.
 *
 * @param state
 *            what callers get now
 * @param expiresAt
 *            when the cached token expires, if there is one
 * @param credentialVersion
 *            the Vault version of the credential in use, once one was read
 * @param lastFailure
 *            why the last attempt failed, if it did and nothing has succeeded since
 */
public record TokenStatus(State state, Optional<Instant> expiresAt, Optional<Integer> credentialVersion,
        Optional<TokenFailure> lastFailure) {

    /** The token states of the HTTP contract. */
    public enum State {

        /** A token is served and not yet due for refresh. */
        FRESH("fresh"),
        /** A token is served and its replacement is due or being minted. */
        REFRESHING("refreshing"),
        /** A token is served, but the last attempt to replace it failed. */
        STALE_SERVING("stale-serving"),
        /** No token can be handed out. */
        UNAVAILABLE("unavailable");

        private final String label;

        State(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }
}
