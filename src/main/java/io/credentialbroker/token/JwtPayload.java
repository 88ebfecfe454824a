package io.credentialbroker.token;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The claims of an access token Azure AD has just issued to the broker, read without checking the
 * signature: the broker is not the token's audience and got it over TLS from the configured
 * authority (docs/upstream-behaviour.md, "Tokens name their tenant"). For reading only what the
 * broker must hold the token against: its tenant, and for app+user tokens the user and how they
 * signed in. Nothing here is trusted for anything else.
 */
public final class JwtPayload {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final JsonNode claims;

    private JwtPayload(JsonNode claims) {
        this.claims = claims;
    }

    /**
     * The payload of a JWT in compact form (header, payload, signature), or empty if the token is not
     * one: not three parts (an encrypted JWT has five), or a payload that is not a JSON object.
     */
    public static Optional<JwtPayload> of(String token) {
        int first = token.indexOf('.');
        int second = first < 0 ? -1 : token.indexOf('.', first + 1);
        if (first <= 0 || second < 0 || token.indexOf('.', second + 1) >= 0) {
            return Optional.empty();
        }
        try {
            byte[] payload = Base64.getUrlDecoder().decode(token.substring(first + 1, second));
            JsonNode claims = JSON.readTree(new String(payload, StandardCharsets.UTF_8));
            return claims != null && claims.isObject() ? Optional.of(new JwtPayload(claims)) : Optional.empty();
        } catch (IllegalArgumentException | IOException e) {
            return Optional.empty(); // the parser's message would quote the token
        }
    }

    /** A claim that is a string, if present. */
    public Optional<String> text(String claim) {
        JsonNode value = claims.get(claim);
        return value != null && value.isTextual() ? Optional.of(value.asText()) : Optional.empty();
    }

    /** The issuing tenant ({@code tid}). */
    public Optional<String> tenant() {
        return text("tid");
    }

    /**
     * The signed-in user's name, for an app+user token: {@code upn} (v1 and v2 tokens of work
     * accounts), else {@code unique_name} (v1) or {@code preferred_username} (v2).
     */
    public Optional<String> user() {
        return text("upn").or(() -> text("unique_name")).or(() -> text("preferred_username"));
    }

    /**
     * How the user authenticated ({@code amr}: {@code pwd}, {@code mfa}, ...); empty for app-only
     * tokens.
     */
    public List<String> authenticationMethods() {
        JsonNode amr = claims.get("amr");
        List<String> methods = new ArrayList<>();
        if (amr != null && amr.isArray()) {
            amr.forEach(method -> {
                if (method.isTextual()) {
                    methods.add(method.asText());
                }
            });
        }
        return List.copyOf(methods);
    }

    /**
     * Whether the user's sign-in included multifactor authentication ({@code amr} holds {@code mfa}).
     */
    public boolean hasMfa() {
        return authenticationMethods().contains("mfa");
    }
}
