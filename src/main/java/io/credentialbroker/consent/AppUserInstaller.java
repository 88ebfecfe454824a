package io.credentialbroker.consent;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

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
import io.credentialbroker.credential.CredentialVersionConflictException;
import io.credentialbroker.credential.PartnerCredential;
import io.credentialbroker.environment.Environment;
import io.credentialbroker.environment.EnvironmentRegistry;
import io.credentialbroker.environment.UnknownEnvironmentException;
import io.credentialbroker.token.JwtPayload;
import io.credentialbroker.token.MintResult;
import io.credentialbroker.token.TokenFailure;
import io.credentialbroker.token.TokenLifetimePolicy;
import io.credentialbroker.token.TokenMinter;
import io.credentialbroker.token.TokenService;
import io.credentialbroker.token.TokenUnavailableException;
import io.credentialbroker.token.UserGrant;

/**
 * Installs, reads and retires an environment's app+user consent. A grant (a refresh token ops
 * paste, or the authorization code of an admin agent's consent) is proved by one exchange before
 * anything is stored: the token must come from the environment's tenant, carry MFA where the
 * environment requires it, and live long enough to hand out. What is stored is the refresh token
 * that exchange returned, and the exchange's access token is the first one the app+user cache
 * serves.
 */
@ApplicationScoped
public class AppUserInstaller {

    private static final Logger LOG = Logger.getLogger(AppUserInstaller.class);

    private final EnvironmentRegistry environments;
    private final CredentialStore credentials;
    private final TokenMinter minter;
    private final AppUserConsents consents;
    private final TokenService tokens;
    private final TokenLifetimePolicy lifetimes;
    private final AuditLog audit;
    private final Clock clock;

    @Inject
    AppUserInstaller(EnvironmentRegistry environments, CredentialStore credentials, TokenMinter minter,
            AppUserConsents consents, TokenService tokens, BrokerConfig config, AuditLog audit, Clock clock) {
        this.environments = environments;
        this.credentials = credentials;
        this.minter = minter;
        this.consents = consents;
        this.tokens = tokens;
        this.lifetimes = TokenLifetimePolicy.from(config.token());
        this.audit = audit;
        this.clock = clock;
    }

    /**
     * The environment's app+user record as stored now (never the refresh token to a caller: the API
     * shows metadata only).
     */
    public AppUserConsents.Current read(String caller, String environmentName, String requestId) {
        Environment environment = environment(environmentName);
        AppUserConsents.Current current = consents.current(environment);
        audit.record(AuditEvent.appUser(clock.instant(), caller, environment.name(), AuditAction.APP_USER_READ,
                AuditOutcome.SUCCEEDED, current.version(), null, null, List.of(), requestId));
        return current;
    }

    /**
     * Proves {@code grant} by one exchange and stores the refresh token it returned, if the record is
     * still at {@code expectedVersion} (0: nothing ever stored).
     *
     * @throws AppUserRefusedException
     *             when the grant or the precondition is refused; nothing was stored
     * @throws TokenUnavailableException
     *             when Azure AD could not be asked, or refused the app itself; nothing was stored
     */
    public AppUserConsent install(String caller, String environmentName, UserGrant grant, int expectedVersion,
            String requestId) {
        Environment environment = environment(environmentName);
        try {
            AppUserConsent stored = prove(environment, grant, expectedVersion);
            audit.record(AuditEvent.appUser(clock.instant(), caller, environment.name(), AuditAction.APP_USER_INSTALL,
                    AuditOutcome.SUCCEEDED, expectedVersion, stored.version(), null, List.of(), requestId));
            LOG.infof("Installed an app+user consent for environment '%s' (record version %d, user %s, mfa %s)",
                    environment.name(), stored.version(), stored.userName().orElse("not named"), stored.mfa());
            return stored;
        } catch (AppUserRefusedException e) {
            audit.record(AuditEvent.appUser(clock.instant(), caller, environment.name(), AuditAction.APP_USER_INSTALL,
                    AuditOutcome.REJECTED, expectedVersion, null, e.reason().code(), e.azureAdErrorCodes(),
                    requestId));
            throw e;
        } catch (TokenUnavailableException e) {
            audit.record(AuditEvent.appUser(clock.instant(), caller, environment.name(), AuditAction.APP_USER_INSTALL,
                    AuditOutcome.FAILED, expectedVersion, null, e.reason().code(), List.of(), requestId));
            throw e;
        }
    }

    private AppUserConsent prove(Environment environment, UserGrant grant, int expectedVersion) {
        String name = environment.name();
        if (grant instanceof UserGrant.RefreshToken refresh) {
            if (refresh.value().isBlank()) {
                throw new AppUserRefusedException(AppUserRefusedException.Reason.REFRESH_TOKEN_MISSING, name,
                        "Give the refresh token to install as refresh_token.");
            }
            if (refresh.value().length() > UserGrant.MAX_REFRESH_TOKEN_CHARS) {
                throw new AppUserRefusedException(AppUserRefusedException.Reason.REFRESH_TOKEN_TOO_LARGE, name,
                        "The refresh_token is longer than " + UserGrant.MAX_REFRESH_TOKEN_CHARS
                                + " characters: no refresh token Azure AD issues is.");
            }
        }
        requireVersion(environment, expectedVersion);
        PartnerCredential app = credentials.read(environment);
        Instant sentAt = clock.instant();
        MintResult result = minter.exchange(environment, app, grant);
        if (result instanceof MintResult.Failed failed) {
            throw refusal(environment, failed);
        }
        MintResult.Issued issued = (MintResult.Issued) result;
        Optional<JwtPayload> claims = JwtPayload.of(issued.accessToken());
        boolean mfa = claims.map(JwtPayload::hasMfa).orElse(false);
        if (environment.appUserRequiresMfa() && !mfa) {
            throw new AppUserRefusedException(AppUserRefusedException.Reason.MFA_REQUIRED, name,
                    "The grant's user signed in without multifactor authentication, which environment '" + name
                            + "' requires (broker.environments." + name + ".app-user.require-mfa); consent again,"
                            + " signing in with MFA.");
        }
        if (!lifetimes.isUsefulLifetime(issued.expiresIn())) {
            throw new AppUserRefusedException(AppUserRefusedException.Reason.TOKEN_LIFETIME_TOO_SHORT, name,
                    "Azure AD issued an app+user token too short-lived to hand out.");
        }
        String refreshToken = issued.refreshToken()
                .orElseGet(() -> grant instanceof UserGrant.RefreshToken refresh ? refresh.value() : null);
        if (refreshToken == null) {
            throw new AppUserRefusedException(AppUserRefusedException.Reason.NO_REFRESH_TOKEN, name,
                    "Azure AD returned no refresh token; the consent must include offline_access.");
        }
        Instant now = clock.instant();
        AppUserConsent candidate = new AppUserConsent(0, refreshToken, claims.flatMap(JwtPayload::user).orElse(null),
                UUID.randomUUID().toString(), now, now, mfa);
        AppUserConsent stored;
        try {
            stored = consents.write(environment, candidate, expectedVersion);
        } catch (CredentialVersionConflictException e) {
            throw new AppUserRefusedException(AppUserRefusedException.Reason.VERSION_CONFLICT, name,
                    "Another writer changed environment '" + name + "''s app+user record while the grant was being"
                            + " proved; nothing was stored. Read it again and retry with its ETag.");
        }
        tokens.adoptAppUser(name, app, stored, issued, sentAt);
        return stored;
    }

    /**
     * Retires the consent in force, if the record is still at {@code expectedVersion}: the app+user
     * cache drops its token at once on this replica, and others refuse theirs at their next exchange.
     */
    public int retire(String caller, String environmentName, int expectedVersion, String requestId) {
        Environment environment = environment(environmentName);
        String name = environment.name();
        try {
            AppUserConsents.Current current = requireVersion(environment, expectedVersion);
            if (current.consent().isEmpty()) {
                throw new AppUserRefusedException(AppUserRefusedException.Reason.NOT_INSTALLED, name,
                        "Environment '" + name + "' has no app+user consent to retire.");
            }
            int retired;
            try {
                retired = consents.retire(environment, expectedVersion, clock.instant());
            } catch (CredentialVersionConflictException e) {
                throw new AppUserRefusedException(AppUserRefusedException.Reason.VERSION_CONFLICT, name,
                        "Another writer changed environment '" + name + "''s app+user record first; nothing was"
                                + " retired. Read it again and retry with its ETag.");
            }
            tokens.retireAppUser(name);
            audit.record(AuditEvent.appUser(clock.instant(), caller, name, AuditAction.APP_USER_RETIRE,
                    AuditOutcome.SUCCEEDED, expectedVersion, retired, null, List.of(), requestId));
            LOG.infof("Retired environment '%s''s app+user consent (record version %d)", name, retired);
            return retired;
        } catch (AppUserRefusedException e) {
            audit.record(AuditEvent.appUser(clock.instant(), caller, name, AuditAction.APP_USER_RETIRE,
                    AuditOutcome.REJECTED, expectedVersion, null, e.reason().code(), List.of(), requestId));
            throw e;
        }
    }

    private AppUserConsents.Current requireVersion(Environment environment, int expectedVersion) {
        AppUserConsents.Current current = consents.current(environment);
        if (current.version() != expectedVersion) {
            throw new AppUserRefusedException(AppUserRefusedException.Reason.STALE_VERSION, environment.name(),
                    "If-Match names version " + expectedVersion + ", but environment '" + environment.name()
                            + "''s app+user record is at version " + current.version()
                            + "; read it again (GET .../app-user) and decide on what it holds now.");
        }
        return current;
    }

    private static RuntimeException refusal(Environment environment, MintResult.Failed failed) {
        String name = environment.name();
        return switch (failed.kind()) {
            case GRANT_INVALID -> new AppUserRefusedException(AppUserRefusedException.Reason.GRANT_REFUSED, name,
                    "Azure AD refused the grant (" + failed.error() + ", AADSTS " + failed.errorCodes()
                            + "): it expired, was revoked, or belongs to another app; an admin agent must consent"
                            + " again.",
                    failed.errorCodes());
            case TENANT_MISMATCH -> new AppUserRefusedException(AppUserRefusedException.Reason.TENANT_MISMATCH, name,
                    "The grant's token comes from another tenant than environment '" + name + "' is pinned to;"
                            + " nothing was stored.");
            default -> new TokenUnavailableException(name, TokenFailure.Reason.forAzureAd(failed.kind()),
                    failed.retryAfter().orElse(Duration.ofSeconds(5)));
        };
    }

    private Environment environment(String name) {
        return environments.find(name).orElseThrow(() -> new UnknownEnvironmentException(name));
    }
}
