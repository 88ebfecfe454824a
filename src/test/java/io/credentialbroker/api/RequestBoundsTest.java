package io.credentialbroker.api;

import static io.credentialbroker.testing.AzureAdStandIn.issued;
import static io.credentialbroker.testing.AzureAdStandIn.newToken;
import static io.credentialbroker.testing.AzureAdStandIn.tokenRequest;
import static io.credentialbroker.testing.Fixtures.SANDBOX;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
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
 * Request bodies are bounded before they are buffered: no API request needs more than a few KiB. A
 * request that declares no body is served without waiting for one ({@link BodylessRequests}); one
 * that declares a body is read to its end, however late it arrives.
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
    @DisplayName("bodiless token requests (no length, length 0, HTTP/1.0) are answered one after another on one connection")
    void answersBodilessRequestsOnOneConnection() throws IOException {
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(issued(newToken(SANDBOX, "sandbox"), 3600)));
        String bearer = "Authorization: Bearer " + issuer.token(CallerIssuer.OPERATOR) + "\r\n";
        String post = "POST /v1/environments/sandbox/token HTTP/1.1\r\nHost: broker\r\n" + bearer;

        List<String> answers = exchange(post + "\r\n", post + "Content-Length: 0\r\n\r\n",
                post + "Content-Type: application/json\r\n\r\n",
                "POST /v1/environments/sandbox/token HTTP/1.0\r\n" + bearer + "\r\n");

        assertThat(answers).hasSize(4).allSatisfy(answer -> assertThat(answer).startsWith("HTTP/1.")
                .contains(" 200 ").contains("\"environment\":\"sandbox\""));
    }

    @Test
    @DisplayName("a declared body that arrives after the headers is still read: refused when it asks for something, accepted when empty JSON")
    void readsADeclaredBodyThatArrivesLate() throws IOException, InterruptedException {
        azureAd.stub(tokenRequest(SANDBOX.domain()).willReturn(issued(newToken(SANDBOX, "sandbox"), 3600)));
        String refused = "{\"scope\":\"https://graph.microsoft.com/.default\"}";

        int askedBefore = azureAd.server().getAllServeEvents().size();
        assertThat(postWithLateBody(refused)).contains(" 400 ").contains("invalid-request");
        assertThat(azureAd.server().getAllServeEvents()).hasSize(askedBefore);
        assertThat(postWithLateBody("{}")).contains(" 200 ").contains("\"environment\":\"sandbox\"");
    }

    /** A token request whose headers go out first and whose body follows a moment later. */
    private String postWithLateBody(String body) throws IOException, InterruptedException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        try (Socket socket = new Socket(broker.getHost(), broker.getPort())) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/environments/sandbox/token HTTP/1.1\r\nHost: broker\r\nConnection: close\r\n"
                    + "Authorization: Bearer " + issuer.token(CallerIssuer.OPERATOR) + "\r\n"
                    + "Content-Type: application/json\r\nContent-Length: " + bytes.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            // a network pause, not a clock: the broker has the headers and must wait for the body
            Thread.sleep(200);
            out.write(bytes);
            out.flush();
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** Sends the requests on one connection, pipelined, and reads one answer for each. */
    private List<String> exchange(String... requests) throws IOException {
        try (Socket socket = new Socket(broker.getHost(), broker.getPort())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            for (String request : requests) {
                out.write(request.getBytes(StandardCharsets.US_ASCII));
            }
            out.flush();
            InputStream in = socket.getInputStream();
            List<String> answers = new ArrayList<>();
            for (int i = 0; i < requests.length; i++) {
                answers.add(readAnswer(in));
            }
            return answers;
        }
    }

    /** One HTTP/1.x answer with a Content-Length, status line to the end of its body. */
    private static String readAnswer(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("the connection closed within an answer's headers: " + head);
            }
            head.write(b);
        }
        String headers = head.toString(StandardCharsets.US_ASCII);
        int length = headers.lines().filter(line -> line.toLowerCase().startsWith("content-length:"))
                .map(line -> Integer.parseInt(line.substring(line.indexOf(':') + 1).strip())).findFirst()
                .orElseThrow(() -> new IOException("an answer without Content-Length: " + headers));
        return headers + new String(in.readNBytes(length), StandardCharsets.UTF_8);
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
