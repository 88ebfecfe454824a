package io.credentialbroker.testing;

import java.net.URI;

import org.eclipse.microprofile.config.ConfigProvider;

import io.restassured.RestAssured;
import io.restassured.specification.RequestSpecification;

/**
 * Requests to the broker's management interface, where the probes ({@code /q/health/*}) and
 * {@code /q/metrics} are served, apart from the API port. Tests run it on a random port
 * ({@code quarkus.management.test-port=0}, or {@link PackagedApplicationProfile} for the packaged
 * application), so that builds running side by side never collide.
 */
public final class ManagementInterface {

    /** Set by {@link PackagedApplicationProfile}: the port the packaged application was told to use. */
    static final String PACKAGED_PORT_PROPERTY = "credential-broker.test.management-port";

    private ManagementInterface() {
    }

    /** A RestAssured request aimed at the management interface of the application under test. */
    public static RequestSpecification management() {
        return RestAssured.given().baseUri(baseUrl());
    }

    static String baseUrl() {
        String packaged = System.getProperty(PACKAGED_PORT_PROPERTY);
        if (packaged != null) {
            return "http://localhost:" + packaged;
        }
        // @QuarkusTest: the running application's own URL, which ends with the management root (/q)
        URI url = URI.create(ConfigProvider.getConfig().getValue("test.management.url", String.class));
        return url.getScheme() + "://" + url.getHost() + ":" + url.getPort();
    }
}
