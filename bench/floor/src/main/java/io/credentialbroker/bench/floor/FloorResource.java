package io.credentialbroker.bench.floor;

import java.nio.charset.StandardCharsets;
import java.security.Principal;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.NotAuthorizedException;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.quarkus.security.Authenticated;
import io.quarkus.security.identity.SecurityIdentity;
import io.smallrye.common.annotation.NonBlocking;
import io.vertx.ext.web.RoutingContext;

/**
 * The broker's cache-hit token endpoint with only the framework work the broker's requirements force,
 * and none of the broker's own work: what the same stack serves once a bearer must be authenticated
 * through Quarkus security, every request carries an id, and a body must be refused. Between the
 * ceiling app (bench/ceiling) and the broker, it splits the gap into framework and broker code.
 *
 * <p>
 * Mirrors, piece for piece, what the broker's token path uses of the framework:
 * <ul>
 * <li>authentication: {@code @Authenticated} on the class with {@code quarkus.http.auth.proactive=false},
 * so Quarkus security authenticates in the JAX-RS chain (its eager security handler, the
 * {@code @Authenticated} interceptor, the Mutiny chain under SmallRye context propagation, the CDI
 * request context); a custom {@code HttpAuthenticationMechanism} ({@link FloorBearerMechanism}) reads
 * the {@code Authorization: Bearer} header and answers from a map, as the broker's mechanism answers
 * a verified token from its cache;</li>
 * <li>the caller's identity read through the injected, request-scoped {@link SecurityIdentity}, as the
 * broker reads it first thing;</li>
 * <li>the method's signature: the path parameter, {@code @Context RoutingContext} and a
 * {@code String body} parameter (needed to refuse a body), the query and body refused as the broker
 * refuses them, a {@link CompletionStage} returned, on the event loop;</li>
 * <li>a pre-matching request filter and a response filter giving each request an
 * {@code X-Request-Id} ({@link RequestIdFilters}), and the pre-matching filter that hands a request
 * declaring no body an empty one ({@link BodylessRequests}, the broker's own, copied);</li>
 * <li>the answer: its own entity type written by a {@code ServerMessageBodyWriter} that sets the
 * broker's headers ({@code Broker-Environment}, {@code Cache-Control: no-store},
 * {@code Pragma: no-cache}) straight on the response ({@link FloorAnswerWriter}), with a constant body
 * of the broker's size ({@code floor.body-bytes}, set by bench/run.sh).</li>
 * </ul>
 *
 * <p>
 * Leaves out everything that is the broker's own work: the verified-token cache's SHA-256 of the
 * bearer (here the map is keyed by the bearer itself, no crypto), quarkus-oidc (its mechanism and
 * provider, never reached on a cache hit), the grants, the per-caller rate limit, the environment
 * lookup, the token cache, the JSON of the answer (here constant bytes), the audit line, the metrics,
 * the MDC, the made-up request ids (here one constant), the request body limit's router handler, the
 * OPTIONS and credentials {@code no-store} filters, the problem+json mappers (no request here fails)
 * and the extensions the token path does not run (OpenAPI, health, Vault, Micrometer, JSON logging).
 */
@Path("/v1/environments")
@Produces(MediaType.APPLICATION_JSON)
@Authenticated
public class FloorResource {

    private final byte[] body;
    private final SecurityIdentity identity;

    FloorResource(@ConfigProperty(name = "floor.body-bytes") int bodyBytes, SecurityIdentity identity) {
        String head = "{\"environment\":\"sandbox\",\"kind\":\"app\",\"token_type\":\"Bearer\","
                + "\"access_token\":\"fake-floor-token-";
        String tail = "\",\"expires_in\":600,\"expires_at\":\"2026-11-24T12:05:00Z\","
                + "\"resource\":\"https://api.partnercenter.microsoft.com\",\"credential_version\":1}";
        int padding = Math.max(0, bodyBytes - head.length() - tail.length());
        this.body = (head + "x".repeat(padding) + tail).getBytes(StandardCharsets.UTF_8);
        this.identity = identity;
    }

    @POST
    @Path("/{environment}/token")
    @NonBlocking
    public CompletionStage<FloorAnswer> token(@PathParam("environment") String environment,
            @Context RoutingContext routing, String body) {
        Principal caller = identity.isAnonymous() ? null : identity.getPrincipal();
        if (caller == null) {
            throw new NotAuthorizedException("Bearer");
        }
        String query = routing.request().query();
        if ((query != null && !query.isEmpty()) || (body != null && !body.isBlank() && !body.strip().equals("{}"))) {
            throw new BadRequestException("The token request takes no query parameters and no body.");
        }
        return CompletableFuture.completedFuture(new FloorAnswer(environment, this.body));
    }
}
