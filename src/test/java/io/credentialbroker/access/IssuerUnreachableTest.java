package io.credentialbroker.access;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import io.credentialbroker.testing.AzureAdStandIn;
import io.credentialbroker.testing.AzureAdStandInResource;
import io.credentialbroker.testing.AzureAdStandInResource.InjectAzureAd;
import io.credentialbroker.testing.CallerIssuer;
import io.credentialbroker.testing.CallerIssuerResource;
import io.credentialbroker.testing.CallerIssuerResource.InjectCallerIssuer;
import io.credentialbroker.testing.VaultStandInResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

/** The issuer's keys cannot be fetched: every bearer is refused, none is let through unverified. */
@QuarkusTest
@WithTestResource(AzureAdStandInResource.class)
@WithTestResource(value = CallerIssuerResource.class, initArgs = @ResourceArg(name = "keys", value = "unavailable"))
@WithTestResource(VaultStandInResource.class)
class IssuerUnreachableTest {

    @InjectAzureAd
    AzureAdStandIn azureAd;

    @InjectCallerIssuer
    CallerIssuer issuer;

    @Test
    @DisplayName("case 29: issuer keys unreachable: fail closed with 503 caller-verification-unavailable and Retry-After, never open")
    void failsClosed() {
        CallerIssuerResource.actAsNobody();
        for (int i = 0; i < 3; i++) {
            given().header("Authorization", "Bearer " + issuer.token(CallerIssuer.OPERATOR))
                    .post("/v1/environments/sandbox/token").then()
                    .statusCode(503)
                    .contentType("application/problem+json")
                    .body("type", equalTo("urn:credential-broker:problem:caller-verification-unavailable"))
                    .header("Retry-After", org.hamcrest.Matchers.notNullValue());
        }
        assertThat(azureAd.server().getAllServeEvents()).isEmpty();
        assertThat(issuer.keyRequests()).isPositive();
    }
}
