package io.credentialbroker.token;

import java.time.Instant;
import java.util.function.Supplier;

import io.credentialbroker.credential.PartnerCredential;

/**
 * Where a rotation hands the credential it stored, with the token that proved it: the environment
 * mints with that credential from then on, and the proof, a token Azure AD issued for it moments
 * ago and the tenant check passed, is served at once instead of being thrown away. A rotation that
 * fixes a refused or expired key so ends the outage immediately. It also runs the proofs themselves
 * in the environment's single flight. Implemented by {@link TokenService}.
 */
public interface ProvedCredentials {

    /**
     * @param credential
     *            the credential as the store now holds it, with its version
     * @param proof
     *            the token that proved it, or null when there is none to give (a rotation whose write
     *            was only read back later)
     * @param sentAt
     *            when the proof's request was sent: its lifetime counts from there
     */
    void adopt(String environment, PartnerCredential credential, MintResult.Issued proof, Instant sentAt);

    /**
     * Runs {@code proof}, one token request with a candidate credential, in the environment's single
     * flight: it waits for a mint of the cache in flight to end, and no cache mint starts until it is
     * done, so a proof and a refresh of one environment never ask Azure AD at once. Without a cache for
     * the environment (or outside the broker) it simply runs.
     *
     * @return what {@code proof} returned, or a transient failure ({@code mint_in_progress}) if the
     *         cache's mint did not end within {@code broker.token.max-wait}
     */
    default MintResult prove(String environment, Supplier<MintResult> proof) {
        return proof.get();
    }
}
