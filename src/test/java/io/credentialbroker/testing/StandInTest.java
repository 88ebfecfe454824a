package io.credentialbroker.testing;

import jakarta.inject.Inject;

import io.credentialbroker.testing.AzureAdStandInResource.InjectAzureAd;
import io.credentialbroker.testing.CallerIssuerResource.InjectCallerIssuer;

/**
 * What a {@code @QuarkusTest} of the broker talks to: the Azure AD and Vault stand-ins and the
 * callers' issuer, injected by their test resources, and the clock the broker goes by. The subclass
 * starts the resources it needs with {@code @WithTestResource}; the field of one it does not start
 * stays null.
 */
public abstract class StandInTest {

    @InjectAzureAd
    protected AzureAdStandIn azureAd;

    @InjectVaultStandIn
    protected VaultStandIn vault;

    @InjectCallerIssuer
    protected CallerIssuer issuer;

    @Inject
    protected TestClock clock;
}
