package io.credentialbroker.consent;

import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.Reader;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.WireMockServer;

import io.credentialbroker.token.JwtPayload;

/**
 * The local run's Azure AD stand-in (src/dev/wiremock, served by quarkus-wiremock in dev mode)
 * plays an admin agent's whole consent (README, "Consent without PowerShell"): its authorize
 * endpoint sends the browser straight back to the broker's callback with a code and the same state,
 * and its token endpoint exchanges that code, and every refresh token it issued, for an app+user
 * token the dev profile accepts (the pinned tenant, a user, MFA) with a new refresh token. Its
 * mappings are loaded into a WireMock server of the same kind and asked as the broker asks.
 */
class DevConsentStandInTest {

    private static final String SCOPE = "https://api.partnercenter.microsoft.com/user_impersonation offline_access";

    private final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
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

    @Test
    @DisplayName("the authorize endpoint redirects to redirect_uri with a dev-code-<random> code and the same state")
    void authorizeRedirectsBackWithACodeAndTheState() throws Exception {
        String redirectUri = devRedirectUri();
        String state = "Zm9vYmFyLXN0YXRlLW9mLWEtZGV2LWNvbnNlbnQtMTIzNDU2Nzg5MA";

        HttpResponse<String> answer = authorize("sandbox", redirectUri, state);

        assertThat(answer.statusCode()).isEqualTo(302);
        String location = answer.headers().firstValue("Location").orElseThrow();
        assertThat(location).startsWith(redirectUri + "?code=dev-code-").endsWith("&state=" + state);
        assertThat(code(location)).matches("dev-code-[A-Za-z0-9]{32}");
    }

    @ParameterizedTest
    @ValueSource(strings = {"sandbox", "primary"})
    @DisplayName("the code, then each refresh token, buys an app+user token of the pinned tenant, a user, MFA, 3599 s, and a new refresh token")
    void exchangesTheCodeThenEachRefreshToken(String environment) throws Exception {
        String code = code(authorize(environment, devRedirectUri(), "state-" + environment).headers()
                .firstValue("Location").orElseThrow());

        JsonNode first = token(environment, "grant_type=authorization_code&code=" + code + "&redirect_uri="
                + encode(devRedirectUri()) + "&code_verifier=dev-verifier");
        String firstRefresh = assertAppUserToken(environment, first);

        JsonNode second = token(environment, "grant_type=refresh_token&refresh_token=" + firstRefresh);
        String secondRefresh = assertAppUserToken(environment, second);
        assertThat(secondRefresh).as("every exchange returns a new refresh token").isNotEqualTo(firstRefresh);
    }

    @Test
    @DisplayName("a code or refresh token it never issued is invalid_grant, and app-only tokens are still issued")
    void refusesAnyOtherGrantAndKeepsClientCredentials() throws Exception {
        HttpResponse<String> refused = post("sandbox", "grant_type=refresh_token&refresh_token=not-from-the-stand-in");
        assertThat(refused.statusCode()).isEqualTo(400);
        assertThat(new ObjectMapper().readTree(refused.body()).path("error").asText()).isEqualTo("invalid_grant");

        HttpResponse<String> app = post("sandbox", "grant_type=client_credentials&client_id=x&client_secret="
                + "fake-sandbox-secret&scope=" + encode("https://api.partnercenter.microsoft.com/.default"));
        assertThat(app.statusCode()).isEqualTo(200);
        String token = new ObjectMapper().readTree(app.body()).path("access_token").asText();
        assertThat(JwtPayload.of(token).orElseThrow().text("idtyp")).hasValue("app");
        assertThat(new ObjectMapper().readTree(app.body()).has("refresh_token")).isFalse();
    }

    private String assertAppUserToken(String environment, JsonNode answer) throws IOException {
        String accessToken = answer.path("access_token").asText();
        JwtPayload claims = JwtPayload.of(accessToken).orElseThrow();
        assertThat(claims.tenant()).hasValue(devProperty("environments." + environment + ".tenant-id"));
        assertThat(claims.user()).hasValue("dev-admin@fake-" + environment + ".onmicrosoft.com");
        assertThat(claims.authenticationMethods()).containsExactly("pwd", "mfa");
        assertThat(answer.path("expires_in").asInt()).isEqualTo(3599);
        String refreshToken = answer.path("refresh_token").asText();
        assertThat(refreshToken).matches("dev-refresh-token-[A-Za-z0-9]{32}");
        return refreshToken;
    }

    private HttpResponse<String> authorize(String environment, String redirectUri, String state) throws Exception {
        String query = "client_id=x&response_type=code&redirect_uri=" + encode(redirectUri)
                + "&response_mode=query&scope=" + encode(SCOPE) + "&state=" + state
                + "&code_challenge=abc&code_challenge_method=S256&prompt=login";
        return http.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/fake-" + environment
                + ".onmicrosoft.com/oauth2/v2.0/authorize?" + query)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode token(String environment, String grant) throws Exception {
        HttpResponse<String> answer = post(environment, grant);
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        return new ObjectMapper().readTree(answer.body());
    }

    private HttpResponse<String> post(String environment, String grant) throws Exception {
        String form = grant + "&client_id=x&client_secret=fake-" + environment + "-secret&scope=" + encode(SCOPE);
        return http.send(HttpRequest
                .newBuilder(
                        URI.create(server.baseUrl() + "/fake-" + environment + ".onmicrosoft.com/oauth2/v2.0/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String code(String location) {
        String query = URI.create(location).getRawQuery();
        for (String parameter : query.split("&")) {
            if (parameter.startsWith("code=")) {
                return parameter.substring("code=".length());
            }
        }
        throw new AssertionError("no code in " + location);
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    /** The redirect URI the dev profile uses: the default, pointing at the dev HTTP port. */
    private static String devRedirectUri() throws IOException {
        String configured = devProperty("app-user.redirect-uri");
        return configured != null ? configured : "http://localhost:8080/v1/app-user/callback";
    }

    private static String devProperty(String key) throws IOException {
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(Path.of("src/main/resources/application.properties"))) {
            properties.load(reader);
        }
        String value = properties.getProperty("%dev.broker." + key);
        return value != null ? value : properties.getProperty("broker." + key);
    }
}
