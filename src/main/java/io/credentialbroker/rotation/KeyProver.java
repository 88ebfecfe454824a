package io.credentialbroker.rotation;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

import org.jboss.logging.Logger;

import io.credentialbroker.credential.PartnerCredential;
import io.credentialbroker.environment.Environment;
import io.credentialbroker.token.MintResult;
import io.credentialbroker.token.MintResult.FailureKind;
import io.credentialbroker.token.ProvedCredentials;
import io.credentialbroker.token.TokenFailure;
import io.credentialbroker.token.TokenMinter;

/**
 * Proves a candidate credential with one real token request and says what the rotation should do
 * next. The minter holds the proof's token to the environment's tenant pin like every other token,
 * so another tenant's key never proves; the token is handed to the cache only once the credential
 * is stored. The request runs in the environment's single flight, shared with its token cache, so a
 * proof and a cache mint of the same environment never ask Azure AD at once.
 */
final class KeyProver {

    private static final Logger LOG = Logger.getLogger(KeyProver.class);

    /** What one proof attempt means for the rotation. */
    sealed interface Verdict {
    }

    /**
     * Azure AD accepted the credential: store it. The token that proved it may be served once the
     * credential is stored (never before, and never if the store refuses it).
     */
    record Proved(MintResult.Issued token, Instant sentAt) implements Verdict {

        @Override
        public String toString() {
            return "Proved[sentAt=" + sentAt + "]";
        }
    }

    /**
     * Not accepted yet, for a reason time may cure: a new key not yet known to every Azure AD node
     * (AADSTS7000215), throttling, or an outage. Ask again after the pause Azure AD asked for, if any.
     */
    record NotYet(String code, List<Integer> azureAdErrorCodes, Optional<Duration> retryAfter) implements Verdict {
    }

    /** Refused for good: the app or tenant is wrong, the key expired, or it is another tenant's. */
    record Refused(String code, List<Integer> azureAdErrorCodes) implements Verdict {
    }

    private final TokenMinter minter;
    private final ProvedCredentials flights;
    private final Clock clock;

    KeyProver(TokenMinter minter, ProvedCredentials flights, Clock clock) {
        this.minter = Objects.requireNonNull(minter, "minter");
        this.flights = Objects.requireNonNull(flights, "flights");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    Verdict attempt(String rotationId, int attempt, Environment environment, PartnerCredential candidate) {
        Instant[] sentAt = new Instant[1];
        MintResult result = flights.prove(environment.name(), () -> {
            sentAt[0] = clock.instant();
            return minter.mint(environment, candidate);
        });
        if (result instanceof MintResult.Issued issued) {
            return new Proved(issued, sentAt[0]);
        }
        MintResult.Failed failed = (MintResult.Failed) result;
        String code = TokenFailure.Reason.forAzureAd(failed.kind()).code();
        // Azure AD's identifiers only: never the request form, never error_description.
        LOG.debugf("Rotation %s of environment '%s': attempt %d refused (%s, http %d, error_codes %s, trace_id %s,"
                + " correlation_id %s)", rotationId, environment.name(), attempt, code, failed.httpStatus(),
                failed.errorCodes(), failed.traceId(), failed.correlationId());
        if (failed.kind() == FailureKind.CONFIGURATION || failed.kind() == FailureKind.CREDENTIAL_EXPIRED
                || failed.kind() == FailureKind.TENANT_MISMATCH) {
            // The app or tenant is wrong for this cloud (AADSTS700016, 90002), the key has expired, or it
            // belongs to another tenant than the environment's pin: waiting cannot change that.
            return new Refused(code, failed.errorCodes());
        }
        return new NotYet(code, failed.errorCodes(), failed.retryAfter());
    }
}
