package io.credentialbroker.access;

import java.security.Principal;

import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import jakarta.json.JsonString;

import org.eclipse.microprofile.jwt.JsonWebToken;

import io.credentialbroker.config.BrokerConfig;
import io.quarkus.security.identity.SecurityIdentity;

/**
 * Names the caller of a request from its verified bearer token: the value of
 * {@code broker.auth.subject-claim}. With authentication off (dev profile only) every request is
 * {@link #UNAUTHENTICATED_DEV_CALLER}.
 */
@Singleton
public class Callers {

    public static final Caller UNAUTHENTICATED_DEV_CALLER = new Caller("dev-mode-unauthenticated");

    private final boolean authEnabled;
    private final String subjectClaim;

    @Inject
    Callers(BrokerConfig config) {
        this(config.auth().enabled(), config.auth().subjectClaim());
    }

    Callers(boolean authEnabled, String subjectClaim) {
        this.authEnabled = authEnabled;
        this.subjectClaim = subjectClaim;
    }

    /**
     * @throws NotAuthenticatedException
     *             when the identity is anonymous or its token has no string subject claim
     */
    public Caller of(SecurityIdentity identity) {
        if (!authEnabled) {
            return UNAUTHENTICATED_DEV_CALLER;
        }
        if (identity == null || identity.isAnonymous()) {
            throw new NotAuthenticatedException("A bearer token is required.");
        }
        Principal principal = identity.getPrincipal();
        if (principal instanceof Caller caller) {
            return caller; // from the verified-token cache
        }
        if (principal instanceof JsonWebToken token) {
            Caller caller = of(token);
            if (caller != null) {
                return caller;
            }
        }
        throw new NotAuthenticatedException("The bearer token has no '" + subjectClaim + "' claim naming the caller.");
    }

    /** The caller a verified token names, or null if its subject claim is missing or not a string. */
    Caller of(JsonWebToken token) {
        Object claim = token.getClaim(subjectClaim);
        String name = claim instanceof JsonString json
                ? json.getString()
                : claim instanceof String string ? string : null;
        return name != null && !name.isBlank() ? new Caller(name) : null;
    }
}
