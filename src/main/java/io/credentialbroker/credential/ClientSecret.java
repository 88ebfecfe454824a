package io.credentialbroker.credential;

import java.util.Objects;

/**
 * An Azure AD client secret. Its {@code toString()} is redacted and it exposes no bean getter, so
 * it cannot reach a log line, an exception message or a JSON body by accident; {@link #reveal()} is
 * the one deliberate way to read it.
 */
public final class ClientSecret {

    /**
     * The longest secret the broker stores. Azure AD's client secrets are 40 characters; a much longer
     * value is a paste of something else.
     */
    public static final int MAX_LENGTH = 256;

    private final String value;

    public ClientSecret(String value) {
        this.value = Objects.requireNonNull(value, "value");
    }

    /** The secret itself, for the token request's form body and for Vault writes only. */
    public String reveal() {
        return value;
    }

    /** The first three characters and an ellipsis, enough for an operator to tell two keys apart. */
    public String hint() {
        return value.substring(0, Math.min(3, value.length())) + "…";
    }

    /**
     * Whether {@code value} has the form of a client secret: printable ASCII with no spaces or control
     * characters (what Azure AD generates). Length is checked separately, against {@link #MAX_LENGTH}.
     */
    public static boolean hasSecretCharacters(String value) {
        return value.chars().allMatch(c -> c > 0x20 && c < 0x7f);
    }

    public boolean isBlank() {
        return value.isBlank();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof ClientSecret that && value.equals(that.value);
    }

    @Override
    public int hashCode() {
        return value.hashCode();
    }

    @Override
    public String toString() {
        return "ClientSecret[redacted]";
    }
}
