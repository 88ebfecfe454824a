package io.credentialbroker.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.HashMap;
import java.util.Map;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * Starts the Azure AD stand-in for a Quarkus test and points the {@code sandbox} and
 * {@code primary} (and {@code rotating} and {@code lab}) environments' token endpoints at it; a
 * field annotated {@link InjectAzureAd} receives it.
 */
public class AzureAdStandInResource implements QuarkusTestResourceLifecycleManager {

    /** Marks the test's {@link AzureAdStandIn} field. */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.FIELD)
    public @interface InjectAzureAd {
    }

    private AzureAdStandIn azureAd;
    private boolean holdTokens;

    /**
     * {@code tokens=held}: from the start, before the application asks, every tenant's token request is
     * answered with an hour-long token only once the test calls {@link AzureAdStandIn#release()}.
     */
    @Override
    public void init(Map<String, String> initArgs) {
        holdTokens = "held".equals(initArgs.get("tokens"));
    }

    @Override
    public Map<String, String> start() {
        azureAd = new AzureAdStandIn();
        azureAd.start();
        if (holdTokens) {
            for (Fixtures.Account account : Fixtures.ACCOUNTS) {
                azureAd.stub(AzureAdStandIn.tokenRequest(account.domain()).willReturn(
                        AzureAdStandIn.held(AzureAdStandIn.issued(AzureAdStandIn.newToken(account, "held"), 3599))));
            }
        }
        // each environment points at the stand-in and is pinned to its account's tenant, the tid of the
        // tokens the tests stub for it (in the prod profile of the integration tests too)
        Map<String, String> config = new HashMap<>();
        for (Fixtures.Account account : Fixtures.ACCOUNTS) {
            String key = "broker.environments." + account.environment();
            config.put(key + ".token-endpoint", azureAd.tokenEndpointTemplate());
            config.put(key + ".tenant-id", account.tenantId());
        }
        return config;
    }

    @Override
    public void inject(TestInjector injector) {
        injector.injectIntoFields(azureAd,
                new TestInjector.AnnotatedAndMatchesType(InjectAzureAd.class, AzureAdStandIn.class));
    }

    @Override
    public void stop() {
        if (azureAd != null) {
            azureAd.stop();
        }
    }
}
