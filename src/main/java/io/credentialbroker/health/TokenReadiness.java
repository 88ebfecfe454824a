package io.credentialbroker.health;

import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

import io.credentialbroker.environment.Environment;
import io.credentialbroker.environment.EnvironmentRegistry;
import io.credentialbroker.token.AppUserStatus;
import io.credentialbroker.token.TokenFailure;
import io.credentialbroker.token.TokenService;
import io.credentialbroker.token.TokenStatus;

/**
 * Ready while this pod can serve at least one environment: one with a servable token, one whose
 * credential was loaded so a token can be minted, or one not tried yet (with
 * {@code broker.token.warm-up=false} the first caller's request mints; a pod must not wait for a
 * request it cannot receive while unready). Unready once every environment's last attempt failed
 * and none has a token left to serve. An Azure AD or Vault outage alone never takes a pod with good
 * tokens out of the Service. Each environment's state is in the details; no secret, no token and no
 * upstream text.
 */
@Readiness
@ApplicationScoped
public class TokenReadiness implements HealthCheck {

    private final EnvironmentRegistry environments;
    private final TokenService tokens;

    TokenReadiness(EnvironmentRegistry environments, TokenService tokens) {
        this.environments = environments;
        this.tokens = tokens;
    }

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder response = HealthCheckResponse.named("tokens");
        boolean canServe = false;
        for (Environment environment : environments.all()) {
            TokenStatus status = tokens.status(environment.name());
            String prefix = environment.name() + ".";
            response.withData(prefix + "state", status.state().label());
            status.expiresAt().ifPresent(at -> response.withData(prefix + "expires_in_seconds",
                    Math.max(0, at.getEpochSecond() - tokens.now().getEpochSecond())));
            status.credentialVersion().ifPresent(version -> response.withData(prefix + "credential_version", version));
            status.lastFailure()
                    .ifPresent(failure -> response.withData(prefix + "last_error", failure.reason().code()));
            canServe |= canServe(status);
            appUser(environment.name(), response);
        }
        return response.status(canServe).build();
    }

    /**
     * The app+user state, as detail only: app-only tokens are what readiness is about, and a consent
     * that needs a person does not make a pod unable to serve them.
     */
    private void appUser(String name, HealthCheckResponseBuilder response) {
        AppUserStatus status = tokens.appUserStatus(name);
        String prefix = name + ".app_user";
        Optional<TokenFailure> failure = status.tokens().lastFailure();
        if (failure.isPresent()) {
            String code = failure.get().reason().code();
            response.withData(prefix, code);
            if (failure.get().reason() == TokenFailure.Reason.CONSENT_REQUIRED
                    || failure.get().reason() == TokenFailure.Reason.MFA_REQUIRED) {
                response.withData(prefix + "_action",
                        "an Admin Agent must consent again, with MFA: GET /v1/environments/"
                                + name + "/app-user/consent (README: re-consent an environment)");
            }
        } else if (status.consent().isPresent()) {
            response.withData(prefix, "installed");
            response.withData(prefix + "_inactivity_expiry", status.consent().get().inactivityExpiry().toString());
        } else if (status.read()) {
            response.withData(prefix, "not_installed");
        }
    }

    /** Whether this environment can answer a caller now, at once or by minting. */
    static boolean canServe(TokenStatus status) {
        boolean untried = status.expiresAt().isEmpty() && status.lastFailure().isEmpty();
        return status.state() != TokenStatus.State.UNAVAILABLE || status.credentialVersion().isPresent() || untried;
    }
}
