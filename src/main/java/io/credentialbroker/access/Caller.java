package io.credentialbroker.access;

import java.security.Principal;
import java.util.Objects;

/**
 * Who is asking, as established from a verified bearer token: the value of the configured subject
 * claim, e.g. {@code system:serviceaccount:billing:api}. It is also the principal of the identity
 * the verified-token cache keeps, which holds nothing else of the token.
 */
public record Caller(String name) implements Principal {

    public Caller {
        Objects.requireNonNull(name, "name");
    }

    @Override
    public String getName() {
        return name;
    }
}
