package io.credentialbroker.token;

import java.net.URI;
import java.util.Objects;

/**
 * What a person granted the environment's app, exchanged with the app's own credential for an
 * app+user token (docs/upstream-behaviour.md, "App+user tokens (Secure Application Model)"). Every
 * value here is a secret: {@code toString()} shows none of them.
 */
public sealed interface UserGrant {

    /**
     * The longest refresh token the broker takes or keeps. Entra's are opaque and a few KiB at most,
     * and the request body limit is 8 KiB.
     */
    int MAX_REFRESH_TOKEN_CHARS = 6 * 1024;

    /** A refresh token an admin agent's consent produced, or the last exchange returned. */
    record RefreshToken(String value) implements UserGrant {

        public RefreshToken {
            Objects.requireNonNull(value, "value");
        }

        @Override
        public String toString() {
            return "RefreshToken[redacted]";
        }
    }

    /**
     * The authorization code an admin agent's browser brought back from the authorize endpoint, with
     * the PKCE verifier and the redirect URI the authorization request named.
     */
    record AuthorizationCode(String code, String codeVerifier, URI redirectUri) implements UserGrant {

        public AuthorizationCode {
            Objects.requireNonNull(code, "code");
            Objects.requireNonNull(codeVerifier, "codeVerifier");
            Objects.requireNonNull(redirectUri, "redirectUri");
        }

        @Override
        public String toString() {
            return "AuthorizationCode[redacted, redirectUri=" + redirectUri + "]";
        }
    }
}
