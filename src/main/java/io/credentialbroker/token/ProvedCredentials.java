package io.credentialbroker.token;

import java.time.Instant;

import io.credentialbroker.credential.PartnerCredential;

/**
 * Where a rotation hands the credential it stored, with the token that proved it: the environment
 * mints with that credential from then on, and the proof, a token Azure AD issued for it moments
 * ago and the tenant check passed, is served at once instead of being thrown away. A rotation that
 * fixes a refused or expired key so ends the outage immediately. Implemented by
 * {@link TokenService}.
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
}
