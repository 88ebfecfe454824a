package io.credentialbroker.rotation;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

import org.jboss.logging.Logger;

import io.credentialbroker.credential.PartnerCredential;
import io.credentialbroker.environment.Environment;
import io.credentialbroker.token.MintResult;
import io.credentialbroker.token.MintResult.FailureKind;
import io.credentialbroker.token.TokenFailure;
import io.credentialbroker.token.TokenMinter;

/**
 * Proves a candidate credential with one real token request and says what the rotation should do
 * next. The token of a proof is dropped: it is never cached nor handed out. The minter holds it to
 * the environment's tenant pin like every other token, so another tenant's key never proves.
 */
final class KeyProver {

    private static final Logger LOG = Logger.getLogger(KeyProver.class);

    /** What one proof attempt means for the rotation. */
    sealed interface Verdict {
    }

    /** Azure AD accepted the credential: store it. */
    record Proved() implements Verdict {
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

    KeyProver(TokenMinter minter) {
        this.minter = Objects.requireNonNull(minter, "minter");
    }

    Verdict attempt(String rotationId, int attempt, Environment environment, PartnerCredential candidate) {
        MintResult result = minter.mint(environment, candidate);
        if (result instanceof MintResult.Issued) {
            return new Proved();
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
