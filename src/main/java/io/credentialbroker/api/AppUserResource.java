package io.credentialbroker.api;

import java.io.IOException;
import java.util.Iterator;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.EntityTag;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.credentialbroker.access.AccessPolicy;
import io.credentialbroker.access.Caller;
import io.credentialbroker.access.Callers;
import io.credentialbroker.access.Permission;
import io.credentialbroker.audit.AuditAction;
import io.credentialbroker.consent.AppUserInstaller;
import io.credentialbroker.credential.AppUserConsent;
import io.credentialbroker.token.UserGrant;
import io.quarkus.security.Authenticated;
import io.quarkus.security.identity.SecurityIdentity;
import io.vertx.ext.web.RoutingContext;

/**
 * Translates the app+user consent endpoints of the HTTP contract (README.md) into calls on the
 * installer: read the metadata, install a refresh token (proved by one exchange before it is
 * stored), retire it. A refresh token travels only in a {@code PUT} body; no answer carries one.
 */
@Path("/v1/environments/{environment}/app-user")
@Produces(MediaType.APPLICATION_JSON)
@Authenticated
@Tag(name = "app+user", description = "The app+user consent of each environment (Secure Application Model)")
public class AppUserResource {

    private static final String REFRESH_TOKEN = "refresh_token";

    /** Strict: a field given twice is refused rather than silently taking the last value. */
    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final AppUserInstaller installer;
    private final AccessPolicy access;
    private final Callers callers;
    private final SecurityIdentity identity;

    AppUserResource(AppUserInstaller installer, AccessPolicy access, Callers callers, SecurityIdentity identity) {
        this.installer = installer;
        this.access = access;
        this.callers = callers;
        this.identity = identity;
    }

    private Caller authorize(String name, AuditAction action, RoutingContext routing) {
        Caller caller = callers.of(identity);
        access.require(caller, name, Permission.CREDENTIALS, action, RequestIds.of(routing));
        return caller;
    }

    @GET
    @Operation(summary = "Read an environment's app+user consent",
            description = "Who consented, when, when its refresh token was last exchanged and would expire unused,"
                    + " and whether the user signed in with MFA; never the refresh token. The ETag names the"
                    + " record's version (\"0\" when nothing was ever stored), for If-Match on a change.")
    @APIResponse(responseCode = "200", description = "The consent, or installed: false",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = AppUserResponse.class)))
    @APIResponse(responseCode = "503", description = "Vault cannot be read now",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Response read(@PathParam("environment") String name, @Context RoutingContext routing) {
        Caller caller = authorize(name, AuditAction.APP_USER_READ, routing);
        var current = installer.read(caller.name(), name, RequestIds.of(routing));
        return noStore(Response.ok(AppUserResponse.of(name, current)).tag(etag(current.version())));
    }

    @PUT
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Install an app+user refresh token",
            description = "Body {\"refresh_token\": \"...\"}. The token is exchanged once before anything is stored:"
                    + " the answer must come from the environment's tenant, carry MFA where required, and live long"
                    + " enough to hand out. What is stored is the refresh token that exchange returned.")
    @APIResponse(responseCode = "200", description = "Proved and stored; ETag names the new version",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = AppUserResponse.class)))
    @APIResponse(responseCode = "400", description = "A malformed body or If-Match",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "412", description = "If-Match is not the record's version, or another writer was"
            + " first; nothing was stored",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "422", description = "The refresh token is missing, too large or refused, has no MFA,"
            + " or comes from another tenant; nothing was stored",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "428", description = "If-Match is missing",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "503", description = "Azure AD or Vault cannot be asked now; see Retry-After",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Response install(@PathParam("environment") String name,
            @Parameter(description = "The record's version, as GET gave it in the ETag: \"0\" for the first install",
                    schema = @Schema(type = SchemaType.STRING)) @HeaderParam(HttpHeaders.IF_MATCH) String ifMatch,
            @Context RoutingContext routing, String body) {
        Caller caller = authorize(name, AuditAction.APP_USER_INSTALL, routing);
        int expected = expectedVersion(ifMatch);
        UserGrant.RefreshToken grant = new UserGrant.RefreshToken(refreshToken(body));
        AppUserConsent stored = installer.install(caller.name(), name, grant, expected, RequestIds.of(routing));
        return noStore(Response.ok(AppUserResponse.of(name, stored)).tag(etag(stored.version())));
    }

    @DELETE
    @Operation(summary = "Retire an environment's app+user consent",
            description = "Writes a version with no refresh token (check-and-set on If-Match): no app+user token is"
                    + " served from it again. Revoke the grant in Entra too if it must stop working everywhere.")
    @APIResponse(responseCode = "204", description = "Retired; ETag names the retiring version")
    @APIResponse(responseCode = "409", description = "No consent is installed",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "412", description = "If-Match is not the record's version",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "428", description = "If-Match is missing",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Response retire(@PathParam("environment") String name,
            @HeaderParam(HttpHeaders.IF_MATCH) String ifMatch, @Context RoutingContext routing) {
        Caller caller = authorize(name, AuditAction.APP_USER_RETIRE, routing);
        int retired = installer.retire(caller.name(), name, expectedVersion(ifMatch), RequestIds.of(routing));
        return noStore(Response.noContent().tag(etag(retired)));
    }

    /** As for credentials, but {@code "0"} names "nothing stored yet", for the first install. */
    private static int expectedVersion(String ifMatch) {
        return CredentialResource.expectedVersion(ifMatch, 0);
    }

    /**
     * The body's one field. No message repeats a value from the body, nor a parser's message, which
     * quotes the input.
     */
    private static String refreshToken(String body) {
        if (body == null || body.isBlank()) {
            throw new InvalidRequestException(REFRESH_TOKEN,
                    "The request needs a JSON body: {\"refresh_token\": \"...\"}.");
        }
        JsonNode tree;
        try {
            tree = JSON.readTree(body);
        } catch (IOException e) {
            throw new InvalidRequestException(null, "The body is not one JSON object: {\"refresh_token\": \"...\"}.");
        }
        if (tree == null || !tree.isObject()) {
            throw new InvalidRequestException(null, "The body is not one JSON object: {\"refresh_token\": \"...\"}.");
        }
        for (Iterator<String> names = tree.fieldNames(); names.hasNext();) {
            if (!REFRESH_TOKEN.equals(names.next())) {
                throw new InvalidRequestException(null, "The body takes only refresh_token.");
            }
        }
        JsonNode value = tree.get(REFRESH_TOKEN);
        if (value != null && !value.isTextual()) {
            throw new InvalidRequestException(REFRESH_TOKEN, "refresh_token must be a string.");
        }
        return value == null ? "" : value.textValue();
    }

    private static EntityTag etag(int version) {
        return new EntityTag(Integer.toString(version));
    }

    private static Response noStore(Response.ResponseBuilder response) {
        return response.header(HttpHeaders.CACHE_CONTROL, "no-store").header("Pragma", "no-cache").build();
    }
}
