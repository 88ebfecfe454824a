package io.credentialbroker.credential;

import java.util.Objects;

import com.fasterxml.jackson.annotation.JsonValue;

/**
 * An Azure AD client secret. Its {@code toString()} and its JSON form are redacted, so it cannot
 * reach a log line, an exception message or a JSON body by accident; {@link #reveal()} is the one
 * deliberate way to read it.
 */
public final class ClientSecret {

    /**
     * The longest secret the broker stores. Azure AD's client secrets are 40 characters; a much longer
     * value is a paste of something else.
     */
    public static final int MAX_LENGTH = 256;

    /**
     * The shortest secret the broker stores: far below Azure AD's 40 characters, and long enough that
     * the three characters of its {@link #hint()} give little away.
     */
    public static final int MIN_LENGTH = 16;

    /** A secret shorter than this shows no characters in its hint. */
    private static final int HINT_MIN_LENGTH = 12;

    private final String value;

    public ClientSecret(String value) {
        this.value = Objects.requireNonNull(value, "value");
    }

    /** The secret itself, for the token request's form body and for Vault writes only. */
    public String reveal() {
        return value;
    }

    /**
     * The first three characters and an ellipsis, enough for an operator to tell two keys apart (the
     * Azure portal shows the same three); just the ellipsis for a secret too short to spare them.
     */
    public String hint() {
        return value.length() < HINT_MIN_LENGTH ? "…" : value.substring(0, 3) + "…";
    }

    /**
     * Whether {@code value} has the form of a client secret: printable ASCII with no spaces or control
     * characters (what Azure AD generates). Length is checked separately, against {@link #MIN_LENGTH}
     * and {@link #MAX_LENGTH}.
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

    /**
     * Also its JSON form, whatever the mapper's settings (one that reads fields would otherwise write
     * the value).
     */
    @JsonValue
    @Override
    public String toString() {
        return "ClientSecret[redacted]";
    }
}
