package io.credentialbroker.health;

import static io.credentialbroker.testing.ManagementInterface.management;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;

import java.net.URL;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.credentialbroker.testing.AzureAdStandInResource;
import io.credentialbroker.testing.CallerIssuerResource;
import io.credentialbroker.testing.PackagedApplicationProfile;
import io.credentialbroker.testing.VaultStandInResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusIntegrationTest;
import io.quarkus.test.junit.TestProfile;

/**
 * The three probe endpoints the Helm chart and deploy/ wire into the pod answer UP on the packaged
 * application's management interface, before any token was asked for.
 */
@QuarkusIntegrationTest
@TestProfile(PackagedApplicationProfile.class)
@WithTestResource(AzureAdStandInResource.class)
@WithTestResource(CallerIssuerResource.class)
@WithTestResource(value = VaultStandInResource.class, initArgs = @ResourceArg(name = "auth", value = "kubernetes"))
class HealthProbesIT {

    @TestHTTPResource("/")
    URL broker;

    @ParameterizedTest(name = "/q/health/{0} is UP")
    @ValueSource(strings = {"live", "ready", "started"})
    void probeAnswersUp(String probe) {
        management().get("/q/health/" + probe).then()
                .statusCode(200)
                .contentType("application/json")
                .body("status", equalTo("UP"));
    }

    @ParameterizedTest(name = "{0} is not served on the API port")
    @ValueSource(strings = {"/q/health/ready", "/q/health/live", "/q/metrics"})
    void probesAndMetricsStayOffTheApiPort(String path) {
        // callers reach the API port; only the kubelet and Prometheus reach the management port
        given().baseUri(broker.toString()).get(path).then().statusCode(404);
    }
}
