package io.credentialbroker.access;

import java.util.Objects;

/**
 * Who is asking, as established from a verified bearer token: the value of the configured subject
 * claim, e.g. {@code system:serviceaccount:billing:api}.
 */
public record Caller(String name) {

    public Caller {
        Objects.requireNonNull(name, "name");
    }
}
