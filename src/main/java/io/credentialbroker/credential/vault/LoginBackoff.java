package io.credentialbroker.credential.vault;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.function.DoubleSupplier;
import java.util.regex.Pattern;

import io.credentialbroker.credential.CredentialStoreException;
import io.quarkus.vault.client.VaultClientException;

/**
 * Paces Vault logins that keep failing (reliability case 7): after a failed login no call goes to
 * Vault for about 1 s, and the pause doubles with each further failure up to 5 min; any call that
 * succeeds ends it. A wrong role, an unbound service account or an unreachable Vault then costs
 * Vault one login attempt per pause from each replica, however many environments and callers are
 * asking. A call Vault does not answer in time counts too: it may have been a login (the client
 * logs in inside a call), and a black-holed Vault must not get a fresh login on every call. One per
 * store: the broker has one Vault identity for all its environments. Each pause is jittered down to
 * half its nominal length, so replicas that failed together do not retry together.
 */
final class LoginBackoff {

    static final Duration FIRST_PAUSE = Duration.ofSeconds(1);
    static final Duration LONGEST_PAUSE = Duration.ofMinutes(5);

    /** A login request's path, with or without the API prefix: {@code auth/<mount>/login}. */
    private static final Pattern LOGIN_PATH = Pattern.compile("(^|/)auth/.+/login$");

    private final Clock clock;
    private final DoubleSupplier jitter;
    private int failures;
    private Instant pausedUntil = Instant.MIN;
    private CredentialStoreException.Reason lastReason;

    /**
     * @param jitter
     *            a number in [0, 1]: the share of the nominal pause's second half that is kept
     */
    LoginBackoff(Clock clock, DoubleSupplier jitter) {
        this.clock = clock;
        this.jitter = jitter;
    }

    /**
     * Whether {@code cause}, why a call to Vault failed (out of its future's wrappers), is a failed
     * login.
     */
    static boolean isLoginFailure(Throwable cause) {
        return cause instanceof VaultClientException vault && vault.getRequestPath() != null
                && LOGIN_PATH.matcher(vault.getRequestPath()).find();
    }

    /**
     * Refuses a call while paused: the failure names the environment, the failed logins in a row and
     * when Vault will be tried again, with the reason the last login failed for.
     */
    synchronized void check(String environment) {
        Instant now = clock.instant();
        if (now.isBefore(pausedUntil)) {
            long seconds = Math.max(1, Duration.between(now, pausedUntil).toSeconds());
            throw new CredentialStoreException(lastReason, environment, "the broker's Vault login failed, or Vault"
                    + " did not answer, " + failures + (failures == 1 ? " time" : " times in a row")
                    + "; it tries again in " + seconds + " s (the pause doubles up to " + LONGEST_PAUSE.toMinutes()
                    + " min)");
        }
    }

    synchronized void failed(CredentialStoreException.Reason reason) {
        failures++;
        lastReason = reason;
        // 1, 2, 4 ... s; the shift stops growing long before it could overflow
        long nominal = Math.min(LONGEST_PAUSE.toMillis(), FIRST_PAUSE.toMillis() << Math.min(failures - 1, 20));
        long half = nominal / 2;
        pausedUntil = clock.instant().plusMillis(half + (long) (jitter.getAsDouble() * half));
    }

    synchronized void succeeded() {
        failures = 0;
        pausedUntil = Instant.MIN;
    }
}
