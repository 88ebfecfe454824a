package io.credentialbroker.api;

import java.net.URI;
import java.time.Instant;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import io.credentialbroker.access.AccessPolicy;
import io.credentialbroker.access.Caller;
import io.credentialbroker.access.Callers;
import io.credentialbroker.access.Permission;
import io.credentialbroker.audit.AuditAction;
import io.credentialbroker.consent.ConsentFlow;
import io.credentialbroker.consent.ConsentRejectedException;
import io.quarkus.security.Authenticated;
import io.quarkus.security.identity.SecurityIdentity;
import io.vertx.ext.web.RoutingContext;

/**
 * Starts an admin agent's consent (README, "Consent without PowerShell"): an ops caller holding
 * {@code credentials} on the environment gets the authorize URL to open in the admin agent's
 * browser, which comes back to {@link AppUserCallbackResource}. The URL holds the consent's
 * {@code state}, its only key until then, so no cache may keep the answer.
 */
@Path("/v1/environments/{environment}/app-user/consent")
@Produces(MediaType.APPLICATION_JSON)
@Authenticated
@Tag(name = "app-user", description = "App+user tokens: the admin agent's consent")
public class AppUserConsentResource {

    private final ConsentFlow consent;
    private final AccessPolicy access;
    private final Callers callers;
    private final SecurityIdentity identity;

    AppUserConsentResource(ConsentFlow consent, AccessPolicy access, Callers callers, SecurityIdentity identity) {
        this.consent = consent;
        this.access = access;
        this.callers = callers;
        this.identity = identity;
    }

    /** The answer's body, for a terminal that does not follow the redirect. */
    public record ConsentStartResponse(String environment, URI authorizeUrl, Instant expiresAt) {
    }

    @GET
    @Operation(summary = "Start an admin agent's consent", description = "Redirects to the environment's Azure AD"
            + " authorize endpoint (authorization code flow with PKCE). The admin agent signs in there, with MFA, and"
            + " the browser comes back to /v1/app-user/callback on this replica, which proves the grant by one exchange"
            + " and stores its refresh token. The link is good once, until expires_at.")
    @APIResponse(responseCode = "302", description = "Location is the authorize URL; the body repeats it",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = ConsentStartResponse.class)))
    @APIResponse(responseCode = "404", description = "No such environment",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "422",
            description = "The environment's token endpoint has no authorize endpoint beside it",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "503", description = "Vault cannot be read now",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Response start(@PathParam("environment") String name, @Context RoutingContext routing) {
        Caller caller = callers.of(identity);
        String requestId = RequestIds.of(routing);
        access.require(caller, name, Permission.CREDENTIALS, AuditAction.APP_USER_CONSENT, requestId);
        ConsentFlow.Started started = consent.start(caller.name(), name, requestId);
        // 302, not 303 or 307: a GET stays a GET, and every browser and curl -L follow it
        return Response.status(Response.Status.FOUND).location(started.authorizeUrl())
                .header(HttpHeaders.CACHE_CONTROL, "no-store").header("Pragma", "no-cache")
                .entity(new ConsentStartResponse(started.environment(), started.authorizeUrl(), started.expiresAt()))
                .build();
    }

    @ServerExceptionMapper
    Response rejected(ConsentRejectedException e) {
        return AppUserCallbackResource.problem(e);
    }
}
