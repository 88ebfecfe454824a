package io.credentialbroker.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.SubmissionPublisher;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import io.credentialbroker.testing.AzureAdStandInResource;
import io.credentialbroker.testing.CallerIssuer;
import io.credentialbroker.testing.CallerIssuerResource;
import io.credentialbroker.testing.Fixtures;
import io.credentialbroker.testing.StandInTest;
import io.credentialbroker.testing.VaultStandIn;
import io.credentialbroker.testing.VaultStandInResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * Request bodies are bounded before they are buffered: no API request needs more than a few KiB.
 */
@QuarkusTest
@WithTestResource(AzureAdStandInResource.class)
@WithTestResource(CallerIssuerResource.class)
@WithTestResource(VaultStandInResource.class)
class RequestBoundsTest extends StandInTest {

    @TestHTTPResource("/")
    URL broker;

    @BeforeEach
    void seed() {
        CallerIssuerResource.actAs(issuer, CallerIssuer.OPERATOR);
        clock.moveToNewDay();
        Fixtures.seed(vault);
    }

    @Test
    @DisplayName("a declared body over 8 KiB is refused with 413 problem+json before it is read, on every endpoint")
    void refusesALargeDeclaredBody() {
        String large = "{\"client_secret\": \"" + "x".repeat((int) RequestBodyLimit.MAX_BYTES) + "\"}";
        for (String path : new String[]{"/v1/environments/sandbox/token", "/v1/environments/lab/credentials"}) {
            String answer = given().contentType("application/json").header("If-Match", "\"1\"").body(large)
                    .put(path).then().statusCode(413).contentType(Problem.MEDIA_TYPE)
                    .body("code", equalTo("payload_too_large")).extract().asString();
            assertThat(answer).doesNotContain("xxxx");
        }
        given().contentType("application/json").body(large).post("/v1/environments/sandbox/token").then()
                .statusCode(413).body("status", equalTo(413));
        assertThat(vault.currentVersion(VaultStandIn.DEFAULT_MOUNT,
                Fixtures.LAB.vaultPath())).hasValue(1);
    }

    @Test
    @DisplayName("a body sent without a length (chunked) is refused with 411 problem+json before it is read")
    void refusesALargeChunkedBody() throws Exception {
        SubmissionPublisher<ByteBuffer> chunks = new SubmissionPublisher<>();
        HttpRequest request = HttpRequest.newBuilder(URI.create(broker + "v1/environments/lab/credentials"))
                .header("Content-Type", "application/json").header("If-Match", "\"1\"")
                .header("Authorization", "Bearer " + issuer.token(CallerIssuer.OPERATOR))
                .PUT(HttpRequest.BodyPublishers.fromPublisher(chunks)).build();
        var pending = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().sendAsync(request,
                HttpResponse.BodyHandlers.ofString());
        byte[] kibibyte = "x".repeat(1024).getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < 16 && !pending.isDone(); i++) {
            chunks.submit(ByteBuffer.wrap(kibibyte));
        }
        chunks.close();

        HttpResponse<String> answer = pending.get();
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(411);
        assertThat(answer.headers().firstValue("Content-Type")).hasValue(Problem.MEDIA_TYPE);
        assertThat(answer.body()).contains("\"code\":\"length_required\"");
        assertThat(vault.currentVersion(VaultStandIn.DEFAULT_MOUNT,
                Fixtures.LAB.vaultPath())).hasValue(1);
    }
}
