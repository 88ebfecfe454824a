package io.credentialbroker.testing;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;

import java.util.List;
import java.util.UUID;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.MappingBuilder;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;

/**
 * Azure AD's token endpoint on loopback, through WireMock: tests stub its answers per tenant and
 * count the requests each tenant got. Tokens it issues are obviously fake.
 */
public final class AzureAdStandIn {

    private final WireMockServer server;

    AzureAdStandIn() {
        // No verbose notifier: WireMock must not print request bodies (they hold client secrets).
        server = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort()
                .containerThreads(32).asynchronousResponseEnabled(true).asynchronousResponseThreads(16));
    }

    void start() {
        server.start();
    }

    void stop() {
        server.stop();
    }

    public WireMockServer server() {
        return server;
    }

    /** The token endpoint template for the broker's configuration. */
    public String tokenEndpointTemplate() {
        return "http://127.0.0.1:" + server.port() + "/{domain}/oauth2/v2.0/token";
    }

    public void reset() {
        server.resetAll();
    }

    public static String tokenPath(String domain) {
        return "/" + domain + "/oauth2/v2.0/token";
    }

    /** A fake token, unique per call, that does not look like a JWT. */
    public static String newToken(String label) {
        return "fake-" + label + "-token-" + UUID.randomUUID();
    }

    /** Stubs the tenant's endpoint; the returned builder can add matchers before {@link #stub}. */
    public static MappingBuilder tokenRequest(String domain) {
        return post(urlPathEqualTo(tokenPath(domain)));
    }

    public static MappingBuilder tokenRequest(String domain, String clientId, String clientSecret) {
        return tokenRequest(domain).withRequestBody(containing("client_id=" + clientId))
                .withRequestBody(containing("client_secret=" + clientSecret));
    }

    public static ResponseDefinitionBuilder issued(String token, Object expiresIn) {
        String lifetime = expiresIn instanceof String ? "\"" + expiresIn + "\"" : String.valueOf(expiresIn);
        return aResponse().withStatus(200).withHeader("Content-Type", "application/json; charset=utf-8")
                .withBody("{\"token_type\":\"Bearer\",\"expires_in\":" + lifetime + ",\"ext_expires_in\":" + lifetime
                        + ",\"access_token\":\"" + token + "\"}");
    }

    /** An Azure AD error body the way Azure AD writes them, description text included. */
    public static ResponseDefinitionBuilder error(int status, String error, int aadsts) {
        return aResponse().withStatus(status).withHeader("Content-Type", "application/json; charset=utf-8")
                .withBody("{\"error\":\"" + error + "\",\"error_description\":\"AADSTS" + aadsts
                        + ": Something the broker must never repeat. Trace ID: 0000\",\"error_codes\":[" + aadsts
                        + "],\"timestamp\":\"2026-11-24 12:00:00Z\",\"trace_id\":\"trace-" + aadsts
                        + "\",\"correlation_id\":\"correlation-" + aadsts + "\"}");
    }

    public void stub(MappingBuilder mapping) {
        server.stubFor(mapping);
    }

    public int tokenRequests(String domain) {
        return server.countRequestsMatching(postRequestedFor(urlPathEqualTo(tokenPath(domain))).build()).getCount();
    }

    public List<LoggedRequest> requests(String domain) {
        return server.findAll(postRequestedFor(urlPathEqualTo(tokenPath(domain))));
    }
}
