package io.credentialbroker.token;

import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.Reader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.WireMockServer;

/**
 * The local run's Azure AD stand-in (src/dev/wiremock, served by quarkus-wiremock in dev mode)
 * issues tokens whose {@code tid} is the tenant the {@code dev} profile pins each environment to:
 * otherwise the README's first command would answer {@code tenant_mismatch}. Its mappings are
 * loaded here into a WireMock server of the same kind and asked as the broker asks.
 */
class DevStandInTenantsTest {

    private WireMockServer server;

    @BeforeEach
    void start() {
        server = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort()
                .usingFilesUnderDirectory("src/dev/wiremock").globalTemplating(false));
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop();
    }

    @ParameterizedTest
    @ValueSource(strings = {"sandbox", "primary"})
    void issuesTokensFromTheTenantTheDevProfilePins(String environment) throws Exception {
        String answer = HttpClient.newHttpClient().send(HttpRequest
                .newBuilder(
                        URI.create(server.baseUrl() + "/fake-" + environment + ".onmicrosoft.com/oauth2/v2.0/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers
                        .ofString("grant_type=client_credentials&client_id=x&client_secret=fake-"
                                + environment
                                + "-secret&scope=https%3A%2F%2Fapi.partnercenter.microsoft.com%2F.default"))
                .build(), HttpResponse.BodyHandlers.ofString()).body();

        String token = new ObjectMapper().readTree(answer).path("access_token").asText();
        assertThat(TenantPinnedMinter.tenantOf(token)).hasValue(devPin(environment));
    }

    private static String devPin(String environment) throws IOException {
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(Path.of("src/main/resources/application.properties"))) {
            properties.load(reader);
        }
        String pin = properties.getProperty("%dev.broker.environments." + environment + ".tenant-id");
        assertThat(pin).as("the dev profile pins %s", environment).isNotBlank();
        return pin;
    }
}
