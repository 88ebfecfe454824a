package io.credentialbroker.api;

import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.CompletionStage;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import io.credentialbroker.access.AccessPolicy;
import io.credentialbroker.access.Caller;
import io.credentialbroker.access.Callers;
import io.credentialbroker.access.TokenIssuer;
import io.credentialbroker.environment.Environment;
import io.credentialbroker.environment.EnvironmentRegistry;
import io.credentialbroker.token.TokenGrant;
import io.credentialbroker.token.TokenService;
import io.credentialbroker.token.TokenStatus;
import io.quarkus.security.Authenticated;
import io.quarkus.security.identity.SecurityIdentity;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;

/**
 * Translates the token endpoints of the HTTP contract (README.md) into calls on the token service.
 */
@Path("/v1/environments")
@Produces(MediaType.APPLICATION_JSON)
@Authenticated
@Tag(name = "tokens", description = "Partner Center access tokens, per environment")
public class EnvironmentResource {

    private final EnvironmentRegistry environments;
    private final TokenService tokens;
    private final TokenIssuer issuer;
    private final AccessPolicy access;
    private final Callers callers;
    private final SecurityIdentity identity;

    EnvironmentResource(EnvironmentRegistry environments, TokenService tokens, TokenIssuer issuer,
            AccessPolicy access, Callers callers, SecurityIdentity identity) {
        this.environments = environments;
        this.tokens = tokens;
        this.issuer = issuer;
        this.access = access;
        this.callers = callers;
        this.identity = identity;
    }

    @POST
    @Path("/{environment}/token")
    @Operation(summary = "Get an access token for an environment",
            description = "Answers from the broker's cache, to callers granted `token` on the environment. The"
                    + " tenant, scope and token endpoint come from the broker's configuration only: the request"
                    + " takes no body and no query parameters.")
    @APIResponse(responseCode = "200", description = "A token labelled with its environment",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = TokenResponse.class)))
    @APIResponse(responseCode = "400", description = "The request carried parameters or a body",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "401", description = "No valid bearer token",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "403", description = "The caller has no `token` grant for this environment",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "No such environment (told only to callers granted every one)",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "429", description = "The caller is over its rate limit; see Retry-After",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "503", description = "No token can be had now; see Retry-After",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public CompletionStage<TokenResponse> token(@PathParam("environment") String name,
            @Context RoutingContext routing, String body) {
        Caller caller = callers.of(identity);
        refuseParameters(routing.request(), body);
        // looked up once: the issuer refuses (and audits) a name that is not an environment
        Environment environment = environments.find(name).orElse(null);
        return issuer.issue(caller, name, RequestIds.of(routing))
                .thenApply(grant -> tokenResponse(environment, TokenResponse.APP, grant));
    }

    @POST
    @Path("/{environment}/app-user-token")
    @Operation(summary = "Get an app+user access token for an environment",
            description = "A token that acts as the admin agent who consented (Partner Center's Secure Application"
                    + " Model), for the operations that refuse app-only tokens; to callers granted `app-user-token`"
                    + " on the environment. Exchanged from the environment's consent, whose next refresh token is"
                    + " stored before the token is handed out. Takes no body and no query parameters.")
    @APIResponse(responseCode = "200", description = "A token labelled with its environment and \"kind\": \"app+user\"",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = TokenResponse.class)))
    @APIResponse(responseCode = "400", description = "The request carried parameters or a body",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "401", description = "No valid bearer token",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "403", description = "The caller has no `app-user-token` grant for this environment",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "No such environment (told only to callers granted every one)",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "429", description = "The caller is over its rate limit; see Retry-After",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "503",
            description = "No token can be had now; `consent_required` or `mfa_required` when an admin agent must"
                    + " consent again; see Retry-After",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public CompletionStage<TokenResponse> appUserToken(@PathParam("environment") String name,
            @Context RoutingContext routing, String body) {
        Caller caller = callers.of(identity);
        refuseParameters(routing.request(), body);
        Environment environment = environments.find(name).orElse(null);
        return issuer.issueAppUser(caller, name, RequestIds.of(routing))
                .thenApply(grant -> tokenResponse(environment, TokenResponse.APP_USER, grant));
    }

    /**
     * The token endpoints take everything from configuration (reliability case 30): refuse anything a
     * caller might think chooses the tenant, scope or authority, rather than silently ignore it.
     */
    private static void refuseParameters(HttpServerRequest http, String body) {
        String query = http.query();
        if (query != null && !query.isEmpty()) {
            throw new InvalidRequestException("The token request takes no query parameters: the tenant, scope and"
                    + " authority come from the broker's configuration.");
        }
        if (body != null && !body.isBlank() && !body.strip().equals("{}")) {
            throw new InvalidRequestException("The token request takes no body: the tenant, scope and authority"
                    + " come from the broker's configuration.");
        }
    }

    /**
     * The answer; {@link TokenResponseWriter} labels it with its environment and forbids caching it.
     */
    private static TokenResponse tokenResponse(Environment environment, String kind, TokenGrant grant) {
        if (!environment.name().equals(grant.token().environment())) {
            // cannot happen (each environment has its own cache); never label a token with another name
            throw new IllegalStateException("a token of another environment reached environment '"
                    + environment.name() + "'");
        }
        return TokenResponse.of(environment, kind, grant);
    }

    @GET
    @Operation(summary = "List the environments the caller may use, and the state of their tokens")
    public EnvironmentsResponse list() {
        List<EnvironmentsResponse.EnvironmentView> views = access.visibleTo(callers.of(identity)).stream()
                .map(this::view).toList();
        return new EnvironmentsResponse(views);
    }

    private EnvironmentsResponse.EnvironmentView view(Environment environment) {
        TokenStatus status = tokens.status(environment.name());
        return new EnvironmentsResponse.EnvironmentView(environment.name(), environment.tenantId().value(),
                environment.cloud().configName(), environment.resource(), status.state().label(),
                status.expiresAt().map(at -> at.truncatedTo(ChronoUnit.SECONDS)).orElse(null),
                status.lastFailure().map(failure -> failure.reason().code()).orElse(null));
    }
}
