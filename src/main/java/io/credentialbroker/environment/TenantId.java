package io.credentialbroker.environment;

import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * An Entra (Azure AD) tenant ID: the GUID a tenant keeps whatever domains it has, and the
 * {@code tid} claim of every token it issues. An environment is pinned to one, so the environment a
 * token is labelled with is the account it came from (docs/upstream-behaviour.md, "Tokens name
 * their tenant").
 *
 * @param value
 *            the GUID in its canonical lowercase form
 */
public record TenantId(String value) {

    private static final Pattern GUID = Pattern
            .compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

    public TenantId {
        Objects.requireNonNull(value, "value");
        if (!GUID.matcher(value).matches()) {
            throw new IllegalArgumentException("not a lowercase GUID");
        }
    }

    /** The tenant ID written as a GUID in either case, or empty if it is not one. */
    public static Optional<TenantId> parse(String text) {
        if (text == null) {
            return Optional.empty();
        }
        String canonical = text.trim().toLowerCase(Locale.ROOT);
        return GUID.matcher(canonical).matches() ? Optional.of(new TenantId(canonical)) : Optional.empty();
    }

    /** Whether a token's {@code tid} claim names this tenant; GUIDs compare without regard to case. */
    public boolean matches(String tid) {
        return tid != null && value.equals(tid.toLowerCase(Locale.ROOT));
    }

    @Override
    public String toString() {
        return value;
    }
}
