package io.credentialbroker.rotation;

import java.util.Objects;
import java.util.Optional;

import io.credentialbroker.credential.ClientSecret;

/** What an operator asks a rotation to make current: a new key, or a version stored before. */
public sealed interface CredentialChange {

    /**
     * A new key for the environment's app, and optionally a new app or tenant; what is not given is
     * taken from the current version.
     */
    record NewKey(ClientSecret clientSecret, Optional<String> clientId, Optional<String> domain)
            implements
                CredentialChange {

        public NewKey {
            Objects.requireNonNull(clientSecret, "clientSecret");
            Objects.requireNonNull(clientId, "clientId");
            Objects.requireNonNull(domain, "domain");
        }
    }

    /** A version stored before, proved again and stored as a new version: a rollback. */
    record Restore(int version) implements CredentialChange {

        public Restore {
            if (version < 1) {
                throw new IllegalArgumentException("versions start at 1");
            }
        }
    }
}
