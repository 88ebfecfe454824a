package io.credentialbroker.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.Map;

import com.github.tomakehurst.wiremock.client.WireMock;

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
            azureAd.stub(WireMock.post(WireMock.urlPathMatching("/[^/]+/oauth2/v2\\.0/token"))
                    .willReturn(AzureAdStandIn.held(AzureAdStandIn.issued(AzureAdStandIn.newToken("held"), 3599))));
        }
        String endpoint = azureAd.tokenEndpointTemplate();
        return Map.of("broker.environments.sandbox.token-endpoint", endpoint,
                "broker.environments.primary.token-endpoint", endpoint,
                "broker.environments.rotating.token-endpoint", endpoint,
                "broker.environments.lab.token-endpoint", endpoint);
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
