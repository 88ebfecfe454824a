package io.credentialbroker.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.Map;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.restassured.RestAssured;
import io.restassured.builder.RequestSpecBuilder;

/**
 * Starts a {@link CallerIssuer} and points quarkus-oidc at its keys, the way a broker in a cluster
 * is pointed at the cluster's service-account issuer (no discovery: JWKS path and issuer given). A
 * field annotated {@link InjectCallerIssuer} receives it.
 */
public class CallerIssuerResource implements QuarkusTestResourceLifecycleManager {

    /** Marks the test's {@link CallerIssuer} field. */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.FIELD)
    public @interface InjectCallerIssuer {
    }

    private CallerIssuer issuer;
    private boolean keysUnavailable;

    /** Init arg {@code keys=unavailable}: the issuer's JWKS answers 503 from the start. */
    @Override
    public void init(Map<String, String> initArgs) {
        keysUnavailable = "unavailable".equals(initArgs.get("keys"));
    }

    @Override
    public Map<String, String> start() {
        issuer = CallerIssuer.start();
        issuer.keysAvailable(!keysUnavailable);
        return Map.of("quarkus.oidc.auth-server-url", issuer.url(),
                "quarkus.oidc.discovery-enabled", "false",
                "quarkus.oidc.jwks-path", CallerIssuer.JWKS_PATH,
                "quarkus.oidc.token.issuer", CallerIssuer.ISSUER);
    }

    @Override
    public void inject(TestInjector injector) {
        injector.injectIntoFields(issuer,
                new TestInjector.AnnotatedAndMatchesType(InjectCallerIssuer.class, CallerIssuer.class));
    }

    @Override
    public void stop() {
        if (issuer != null) {
            issuer.stop();
        }
    }

    /**
     * Makes rest-assured send a valid token for the caller with every request of the current test.
     *
     * @return the token
     */
    public static String actAs(CallerIssuer issuer, String caller) {
        String token = issuer.token(caller);
        RestAssured.requestSpecification = new RequestSpecBuilder().addHeader("Authorization", "Bearer " + token)
                .build();
        return token;
    }

    /** Makes rest-assured send no token unless a test adds one. */
    public static void actAsNobody() {
        RestAssured.requestSpecification = null;
    }
}
