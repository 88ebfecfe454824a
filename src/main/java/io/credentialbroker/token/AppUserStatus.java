package io.credentialbroker.token;

import java.util.Optional;

import io.credentialbroker.credential.AppUserConsent;

/**
 * An environment's app+user tokens as this replica sees them.
 *
 * @param tokens
 *            the app+user cache's state
 * @param read
 *            whether this replica has read the environment's app+user record yet
 * @param consent
 *            the consent in force when it last read or wrote the record; empty if none is installed
 *            (or it has not read it yet)
 */
public record AppUserStatus(TokenStatus tokens, boolean read, Optional<AppUserConsent> consent) {
}
