package io.credentialbroker.testing;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.MappingBuilder;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.extension.ResponseDefinitionTransformerV2;
import com.github.tomakehurst.wiremock.http.ResponseDefinition;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;

/**
 * Azure AD's token endpoint on loopback, through WireMock: tests stub its answers per tenant and
 * count the requests each tenant got. Tokens it issues are obviously fake.
 */
public final class AzureAdStandIn {

    /** Name of the transformer that holds a response until the test releases it; see {@link #held}. */
    public static final String HELD = "held-until-released";

    private final WireMockServer server;
    private final Hold hold = new Hold();

    AzureAdStandIn() {
        // No verbose notifier: WireMock must not print request bodies (they hold client secrets).
        server = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort().containerThreads(32)
                .asynchronousResponseEnabled(true).asynchronousResponseThreads(16).extensions(hold));
    }

    /**
     * A response that Azure AD takes as long as the test wants to give: it is sent only after
     * {@link #release()}, so a test can look at the broker while a token request is in flight, without
     * timing assumptions.
     */
    public static ResponseDefinitionBuilder held(ResponseDefinitionBuilder response) {
        return response.withTransformers(HELD);
    }

    /** Waits until {@code count} requests are being held. */
    public void awaitHeld(int count) {
        try {
            if (!hold.arrivals.tryAcquire(count, 10, TimeUnit.SECONDS)) {
                throw new AssertionError("fewer than " + count + " token requests arrived within 10 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Whether one more request arrives to be held within {@code wait}; consumes it if so. */
    public boolean anotherHeldWithin(Duration wait) {
        try {
            return hold.arrivals.tryAcquire(1, wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Lets every held response go, and any later one pass at once, until the next {@link #reset()}. */
    public void release() {
        hold.release.get().countDown();
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
        release();
        server.resetAll();
        hold.release.set(new CountDownLatch(1));
        hold.arrivals.drainPermits();
    }

    public static String tokenPath(String domain) {
        return "/" + domain + "/oauth2/v2.0/token";
    }

    /**
     * A fake access token from the account's tenant, unique per call: a JWT as Azure AD issues them,
     * whose payload names the tenant ({@code tid}), unsigned and obviously fake.
     */
    public static String newToken(Fixtures.Account account, String label) {
        return newToken(account.tenantId(), label);
    }

    /**
     * A fake access token whose {@code tid} is {@code tenantId}; a null tenant leaves the claim out.
     */
    public static String newToken(String tenantId, String label) {
        String tid = tenantId == null ? "" : "\"tid\":\"" + tenantId + "\",";
        return jwt("{" + tid + "\"aud\":\"https://api.partnercenter.microsoft.com\",\"idtyp\":\"app\",\"uti\":\"fake-"
                + label + "-token-" + UUID.randomUUID() + "\"}");
    }

    /**
     * A fake app+user access token of the account's tenant: it names its user ({@code upn}) and how
     * they signed in ({@code amr}), with or without multifactor authentication.
     */
    public static String newUserToken(Fixtures.Account account, String user, boolean mfa) {
        return mfa ? newUserToken(account, user, "pwd", "mfa") : newUserToken(account, user, "pwd");
    }

    /** A refresh-token exchange for the tenant, sending exactly this refresh token. */
    public static MappingBuilder refreshTokenRequest(String domain, String refreshToken) {
        return tokenRequest(domain).withRequestBody(containing("grant_type=refresh_token"))
                .withRequestBody(
                        containing("refresh_token=" + URLEncoder.encode(refreshToken, StandardCharsets.UTF_8)));
    }

    /** An app+user answer: the access token and the next refresh token. */
    public static ResponseDefinitionBuilder issuedForUser(String token, String refreshToken, int expiresIn) {
        return aResponse().withStatus(200).withHeader("Content-Type", "application/json; charset=utf-8")
                .withBody(
                        "{\"token_type\":\"Bearer\",\"scope\":\"https://api.partnercenter.microsoft.com/user_impersonation\","
                                + "\"expires_in\":" + expiresIn + ",\"access_token\":\"" + token
                                + "\",\"refresh_token\":\""
                                + refreshToken + "\"}");
    }

    /**
     * A fake app+user token from the account's tenant: a user's ({@code idtyp: user}) with its
     * {@code upn} and sign-in methods ({@code amr}, e.g. {@code pwd}, {@code mfa}), unique per call.
     */
    public static String newUserToken(Fixtures.Account account, String upn, String... amr) {
        String methods = Arrays.stream(amr).map(method -> "\"" + method + "\"").collect(Collectors.joining(","));
        return jwt("{\"tid\":\"" + account.tenantId() + "\",\"aud\":\"https://api.partnercenter.microsoft.com\","
                + "\"idtyp\":\"user\",\"upn\":\"" + upn + "\",\"amr\":[" + methods + "],\"scp\":\"user_impersonation\","
                + "\"uti\":\"fake-user-token-" + UUID.randomUUID() + "\"}");
    }

    /** A compact JWT with this payload, {@code alg: none} and a fake signature. */
    public static String jwt(String payloadJson) {
        Base64.Encoder base64 = Base64.getUrlEncoder().withoutPadding();
        return base64.encodeToString("{\"typ\":\"JWT\",\"alg\":\"none\"}".getBytes(StandardCharsets.UTF_8)) + "."
                + base64.encodeToString(payloadJson.getBytes(StandardCharsets.UTF_8)) + ".fake-signature";
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

    /** An app+user answer: the access token and the refresh token that replaces the one exchanged. */
    public static ResponseDefinitionBuilder issued(String token, int expiresIn, String refreshToken) {
        return aResponse().withStatus(200).withHeader("Content-Type", "application/json; charset=utf-8")
                .withBody("{\"token_type\":\"Bearer\",\"scope\":\"https://api.partnercenter.microsoft.com/"
                        + "user_impersonation\",\"expires_in\":" + expiresIn + ",\"ext_expires_in\":" + expiresIn
                        + ",\"access_token\":\"" + token + "\",\"refresh_token\":\"" + refreshToken + "\"}");
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

    /** Blocks a response, on WireMock's request thread, until released (or 30 s, so nothing hangs). */
    private static final class Hold implements ResponseDefinitionTransformerV2 {

        private final AtomicReference<CountDownLatch> release = new AtomicReference<>(new CountDownLatch(1));
        private final Semaphore arrivals = new Semaphore(0);

        @Override
        public ResponseDefinition transform(ServeEvent serveEvent) {
            arrivals.release();
            try {
                release.get().await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return serveEvent.getResponseDefinition();
        }

        @Override
        public boolean applyGlobally() {
            return false;
        }

        @Override
        public String getName() {
            return HELD;
        }
    }
}
