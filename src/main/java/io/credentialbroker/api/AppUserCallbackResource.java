package io.credentialbroker.api;

import jakarta.annotation.security.PermitAll;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
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

import io.credentialbroker.consent.ConsentFlow;
import io.credentialbroker.consent.ConsentRejectedException;
import io.vertx.ext.web.RoutingContext;

/**
 * Where Azure AD sends the admin agent's browser back after a consent started at
 * {@link AppUserConsentResource}. A browser carries no bearer token, so this endpoint is open: the
 * single-use {@code state} is its only key, and it answers nothing but the outcome. The query holds
 * the authorization code; it reaches the consent flow and nothing else (no answer, log line or
 * audit event repeats it).
 */
@Path("/v1/app-user/callback")
@PermitAll
@Tag(name = "app-user", description = "App+user tokens: the admin agent's consent")
public class AppUserCallbackResource {

    private final ConsentFlow consent;

    AppUserCallbackResource(ConsentFlow consent) {
        this.consent = consent;
    }

    @GET
    @Produces(MediaType.TEXT_PLAIN)
    @Operation(summary = "Finish an admin agent's consent (Azure AD's redirect)", description = "Reached by the admin"
            + " agent's browser, not by callers. Consumes the state, exchanges the code with the PKCE verifier, proves"
            + " the grant and stores its refresh token; answers a short text page.")
    @APIResponse(responseCode = "200", description = "Installed", content = @Content(mediaType = MediaType.TEXT_PLAIN))
    @APIResponse(responseCode = "400", description = "Unknown, used or expired state; Azure AD's error; no code",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "412", description = "Another writer stored a consent meanwhile; nothing was stored",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "422", description = "Azure AD refused the code, or the grant is not one to keep"
            + " (no MFA, another tenant, no refresh token); nothing was stored",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "503", description = "Azure AD or Vault cannot be asked now; nothing was stored",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Response callback(@QueryParam("state") String state, @QueryParam("code") String code,
            @QueryParam("error") String error, @Context RoutingContext routing) {
        ConsentFlow.Completed completed = consent.complete(state, code, error, RequestIds.of(routing));
        String page = "Consent installed for environment '" + completed.environment() + "' (user "
                + completed.consent().userName().orElse("not named") + ", app+user record version "
                + completed.consent().version() + ", started by " + completed.caller() + ").\n"
                + "You can close this window.\n";
        return noStore(Response.ok(page, MediaType.TEXT_PLAIN_TYPE.withCharset("UTF-8"))).build();
    }

    @ServerExceptionMapper
    Response rejected(ConsentRejectedException e) {
        return problem(e);
    }

    static Response problem(ConsentRejectedException e) {
        String title = e.reason() == ConsentRejectedException.Reason.NO_AUTHORIZE_ENDPOINT
                ? "Consent not possible"
                : "Consent not accepted";
        return noStore(Response.status(e.reason().status()).type(Problem.MEDIA_TYPE)
                .entity(new Problem(Problem.type("consent-rejected"), title, e.reason().status(), e.getMessage(),
                        e.environment(), e.code(), null)))
                .build();
    }

    /**
     * Nothing about a consent is for a cache; and the page links nowhere, but should a browser ever
     * follow a link from it, the referrer must not carry the code in this page's URL.
     */
    private static Response.ResponseBuilder noStore(Response.ResponseBuilder response) {
        return response.header(HttpHeaders.CACHE_CONTROL, "no-store").header("Pragma", "no-cache")
                .header("Referrer-Policy", "no-referrer").header("X-Content-Type-Options", "nosniff");
    }
}
