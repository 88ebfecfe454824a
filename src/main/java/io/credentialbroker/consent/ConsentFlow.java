package io.credentialbroker.consent;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import io.credentialbroker.audit.AuditAction;
import io.credentialbroker.audit.AuditEvent;
import io.credentialbroker.audit.AuditLog;
import io.credentialbroker.audit.AuditOutcome;
import io.credentialbroker.config.BrokerConfig;
import io.credentialbroker.credential.AppUserConsent;
import io.credentialbroker.credential.AppUserConsents;
import io.credentialbroker.credential.CredentialStore;
import io.credentialbroker.credential.PartnerCredential;
import io.credentialbroker.environment.Environment;
import io.credentialbroker.environment.EnvironmentRegistry;
import io.credentialbroker.environment.UnknownEnvironmentException;
import io.credentialbroker.token.TokenUnavailableException;
import io.credentialbroker.token.UserGrant;
import io.credentialbroker.token.azure.AzureAdTokenMinter;

/**
 * An admin agent's consent without PowerShell: the authorization code flow with PKCE (RFC 7636),
 * started by an ops caller and finished by the admin agent's browser at the callback, whose code is
 * handed to {@link AppUserInstaller} to be proved and stored (README, "Consent without
 * PowerShell").
 *
 * <p>
 * The browser cannot carry the ops caller's bearer token, so the {@code state} is the only key to a
 * pending consent: 256 random bits, bound to the ops caller, the environment and the PKCE verifier,
 * used at most once and for {@code broker.app-user.consent-timeout} at most. Pending consents live
 * in this replica's memory only, so the callback must come back to the replica that started it,
 * which is what {@code kubectl port-forward} to one pod gives. The verifier never leaves this class
 * but in the code exchange, so a code caught on its way back is useless to anyone else.
 */
@ApplicationScoped
public class ConsentFlow {

    /**
     * The most consents pending at once. Starting one is open to ops callers only and a consent is a
     * rare, manual act; when a burst still fills it, the oldest pending consent gives way (its admin
     * agent starts again).
     */
    static final int MAX_PENDING = 100;

    /** RFC 7636 asks for a verifier of 43 to 128 characters: 32 random bytes are 43 in base64url. */
    private static final int VERIFIER_BYTES = 32;
    private static final int STATE_BYTES = 32;

    /** The caller an audit event names for a callback whose state names no consent. */
    static final String UNKNOWN_CALLER = "(unknown)";

    private static final Logger LOG = Logger.getLogger(ConsentFlow.class);
    private static final Base64.Encoder BASE64URL = Base64.getUrlEncoder().withoutPadding();

    private final EnvironmentRegistry environments;
    private final CredentialStore credentials;
    private final AppUserConsents consents;
    private final AppUserInstaller installer;
    private final AuditLog audit;
    private final Clock clock;
    private final URI redirectUri;
    private final Duration timeout;
    private final SecureRandom random = new SecureRandom();
    /** By state, oldest first; guarded by {@code this}. */
    private final Map<String, Pending> pending = new LinkedHashMap<>();

    @Inject
    ConsentFlow(EnvironmentRegistry environments, CredentialStore credentials, AppUserConsents consents,
            AppUserInstaller installer, BrokerConfig config, AuditLog audit, Clock clock) {
        this.environments = environments;
        this.credentials = credentials;
        this.consents = consents;
        this.installer = installer;
        this.audit = audit;
        this.clock = clock;
        this.redirectUri = URI.create(config.appUser().redirectUri());
        this.timeout = config.appUser().consentTimeout();
    }

    /** What the admin agent's browser is sent to, and until when the consent may come back. */
    public record Started(String environment, URI authorizeUrl, Instant expiresAt) {

        @Override
        public String toString() {
            // the URL holds the state, the key to the pending consent
            return "Started[environment=" + environment + ", authorizeUrl=redacted, expiresAt=" + expiresAt + "]";
        }
    }

    /** The consent the callback installed, and the ops caller who started it. */
    public record Completed(String environment, String caller, AppUserConsent consent) {
    }

    /**
     * Starts a consent of {@code environmentName}'s app for {@code caller} (who holds the
     * {@code credentials} permission there; the edge checks it).
     *
     * @throws ConsentRejectedException
     *             when the environment's authorize endpoint cannot be told
     */
    public Started start(String caller, String environmentName, String requestId) {
        Environment environment = environments.find(environmentName)
                .orElseThrow(() -> new UnknownEnvironmentException(environmentName));
        String name = environment.name();
        PartnerCredential app = credentials.read(environment);
        Optional<URI> authorize = environment.authorizeEndpoint(app.domain());
        if (authorize.isEmpty()) {
            ConsentRejectedException rejected = ConsentRejectedException.noAuthorizeEndpoint(name);
            audit.record(event(caller, name, AuditOutcome.REJECTED, null, null, rejected.code(), requestId));
            throw rejected;
        }
        String verifier = randomText(VERIFIER_BYTES);
        String state = randomText(STATE_BYTES);
        Instant expiresAt = clock.instant().plus(timeout);
        remember(state, new Pending(caller, name, verifier, expiresAt));
        audit.record(event(caller, name, AuditOutcome.SUCCEEDED, null, null, null, requestId));
        LOG.infof("Caller '%s' started an app+user consent for environment '%s', pending until %s", caller, name,
                expiresAt);
        return new Started(name, authorizeUrl(environment, authorize.get(), app.clientId(), state, verifier),
                expiresAt);
    }

    /**
     * Finishes the consent {@code state} names, once: the state is consumed before anything else, so a
     * replay finds nothing, whatever the first callback's outcome.
     *
     * @param error
     *            Azure AD's {@code error} parameter, if the browser came back with one
     * @throws ConsentRejectedException
     *             for an unknown, used or expired state, an error from Azure AD, or no code; nothing
     *             was stored
     * @throws AppUserRefusedException
     *             when Azure AD refused the code, or the grant it gave is not one to keep
     * @throws TokenUnavailableException
     *             when Azure AD could not be asked
     */
    public Completed complete(String state, String code, String error, String requestId) {
        Pending consent = take(state);
        if (consent == null) {
            audit.record(event(UNKNOWN_CALLER, null, AuditOutcome.REJECTED, null, null, "consent_state_invalid",
                    requestId));
            LOG.warn("An app+user consent callback named an unknown, used or expired state; nothing was stored");
            throw ConsentRejectedException.invalidState();
        }
        String name = consent.environment();
        if (error != null) {
            ConsentRejectedException failed = ConsentRejectedException.failed(name, error);
            audit.record(event(consent.caller(), name, AuditOutcome.REJECTED, null, null, failed.code(), requestId));
            LOG.warnf("Azure AD sent the app+user consent for environment '%s' back without a code (%s)", name,
                    failed.code());
            throw failed;
        }
        if (code == null || code.isBlank()) {
            audit.record(event(consent.caller(), name, AuditOutcome.REJECTED, null, null,
                    "authorization_code_missing", requestId));
            throw ConsentRejectedException.codeMissing(name);
        }
        Environment environment = environments.find(name).orElseThrow(() -> new UnknownEnvironmentException(name));
        int current = consents.current(environment).version();
        try {
            AppUserConsent installed = installer.install(consent.caller(), name,
                    new UserGrant.AuthorizationCode(code, consent.verifier(), redirectUri), current, requestId);
            audit.record(event(consent.caller(), name, AuditOutcome.SUCCEEDED, current, installed.version(), null,
                    requestId));
            return new Completed(name, consent.caller(), installed);
        } catch (AppUserRefusedException e) {
            audit.record(event(consent.caller(), name, AuditOutcome.REJECTED, current, null, e.reason().code(),
                    requestId));
            throw e;
        } catch (TokenUnavailableException e) {
            audit.record(event(consent.caller(), name, AuditOutcome.FAILED, current, null, e.reason().code(),
                    requestId));
            throw e;
        }
    }

    /** How many consents are pending now (expired ones included until they are swept). */
    synchronized int pendingCount() {
        return pending.size();
    }

    private synchronized void remember(String state, Pending consent) {
        sweep(clock.instant());
        if (pending.size() >= MAX_PENDING) {
            Iterator<Map.Entry<String, Pending>> oldest = pending.entrySet().iterator();
            Pending dropped = oldest.next().getValue();
            oldest.remove();
            LOG.warnf("%d app+user consents are pending: the oldest (environment '%s', started by '%s') gave way",
                    MAX_PENDING, dropped.environment(), dropped.caller());
        }
        pending.put(state, consent);
    }

    /** Removes and returns the consent {@code state} names, if it has not expired. */
    private synchronized Pending take(String state) {
        if (state == null) {
            return null;
        }
        Pending consent = pending.remove(state);
        Instant now = clock.instant();
        sweep(now);
        return consent != null && now.isBefore(consent.expiresAt()) ? consent : null;
    }

    private void sweep(Instant now) {
        pending.values().removeIf(consent -> !now.isBefore(consent.expiresAt()));
    }

    /**
     * The authorization request (docs/upstream-behaviour.md, "App+user tokens (Secure Application
     * Model)"): the same scope the exchange asks for (v1: {@code resource}), the code to come back in
     * the query, and {@code prompt=login}, so the person at the keyboard signs in afresh, meeting the
     * tenant's MFA policy now, rather than a session the browser happens to hold. Not
     * {@code prompt=consent}: a tenant that allows admin consent only would refuse it even after the
     * admin consented.
     */
    private URI authorizeUrl(Environment environment, URI authorize, String clientId, String state,
            String verifier) {
        StringBuilder url = new StringBuilder(authorize.toString());
        char separator = '?';
        for (Map.Entry<String, String> parameter : parameters(environment, clientId, state, verifier)) {
            url.append(separator).append(encode(parameter.getKey())).append('=').append(encode(parameter.getValue()));
            separator = '&';
        }
        return URI.create(url.toString());
    }

    private List<Map.Entry<String, String>> parameters(Environment environment, String clientId, String state,
            String verifier) {
        Map.Entry<String, String> scope = environment.usesV1Endpoint()
                ? Map.entry("resource", environment.resource())
                : Map.entry("scope", AzureAdTokenMinter.userScope(environment));
        return List.of(Map.entry("client_id", clientId), Map.entry("response_type", "code"),
                Map.entry("redirect_uri", redirectUri.toString()), Map.entry("response_mode", "query"), scope,
                Map.entry("state", state), Map.entry("code_challenge", challenge(verifier)),
                Map.entry("code_challenge_method", "S256"), Map.entry("prompt", "login"));
    }

    /** RFC 7636, S256: base64url, unpadded, of the SHA-256 of the verifier's ASCII. */
    static String challenge(String verifier) {
        try {
            return BASE64URL.encodeToString(
                    MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    private String randomText(int bytes) {
        byte[] value = new byte[bytes];
        random.nextBytes(value);
        return BASE64URL.encodeToString(value);
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private AuditEvent event(String caller, String environment, AuditOutcome outcome, Integer fromVersion,
            Integer toVersion, String errorCode, String requestId) {
        return AuditEvent.appUser(clock.instant(), caller, environment, AuditAction.APP_USER_CONSENT, outcome,
                fromVersion, toVersion, errorCode, List.of(), requestId);
    }

    /** A consent waiting for its callback. {@code toString()} never shows the verifier. */
    private record Pending(String caller, String environment, String verifier, Instant expiresAt) {

        Pending {
            Objects.requireNonNull(caller, "caller");
            Objects.requireNonNull(environment, "environment");
            Objects.requireNonNull(verifier, "verifier");
        }

        @Override
        public String toString() {
            return "Pending[caller=" + caller + ", environment=" + environment + ", verifier=redacted, expiresAt="
                    + expiresAt + "]";
        }
    }
}
