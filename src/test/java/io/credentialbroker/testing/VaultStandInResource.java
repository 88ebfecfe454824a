package io.credentialbroker.testing;

import java.util.Map;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * Runs one {@link VaultStandIn} for a Quarkus test and points quarkus-vault at it with a client
 * token generated for the run; seeds nothing. Tests reach the stand-in through a field annotated
 * {@link InjectVaultStandIn}, and should {@link VaultStandIn#reset()} it between tests.
 */
public class VaultStandInResource implements QuarkusTestResourceLifecycleManager {

    private VaultStandIn standIn;

    @Override
    public Map<String, String> start() {
        standIn = VaultStandIn.start();
        return Map.of(
                "quarkus.vault.url", standIn.url(),
                "quarkus.vault.authentication.client-token", standIn.rootToken(),
                "quarkus.vault.devservices.enabled", "false");
    }

    @Override
    public void inject(TestInjector testInjector) {
        testInjector.injectIntoFields(standIn,
                new TestInjector.AnnotatedAndMatchesType(InjectVaultStandIn.class, VaultStandIn.class));
    }

    @Override
    public void stop() {
        if (standIn != null) {
            standIn.close();
            standIn = null;
        }
    }
}
