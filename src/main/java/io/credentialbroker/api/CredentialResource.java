package io.credentialbroker.api;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
import jakarta.ws.rs.core.UriInfo;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.ExampleObject;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import io.credentialbroker.access.AccessPolicy;
import io.credentialbroker.access.Caller;
import io.credentialbroker.access.Callers;
import io.credentialbroker.access.Permission;
import io.credentialbroker.audit.AuditAction;
import io.credentialbroker.credential.CredentialService;
import io.credentialbroker.environment.Environment;
import io.credentialbroker.environment.EnvironmentRegistry;
import io.credentialbroker.environment.UnknownEnvironmentException;
import io.credentialbroker.rotation.CredentialChange;
import io.credentialbroker.rotation.RotationService;
import io.credentialbroker.rotation.RotationStatus;
import io.quarkus.security.Authenticated;
import io.quarkus.security.identity.SecurityIdentity;
import io.vertx.ext.web.RoutingContext;

/**
 * Translates the credential endpoints of the HTTP contract (README.md) into calls on the credential
 * and rotation services. A secret travels only in a {@code PUT} body; no answer carries one.
 * {@code Cache-Control: no-store} is set on every answer under this path by
 * {@link CredentialCacheControl}.
 */
@Path("/v1/environments/{environment}/credentials")
@Produces(MediaType.APPLICATION_JSON)
@Authenticated
@Tag(name = "credentials", description = "The Azure AD app credential of each environment: read, rotate, roll back")
public class CredentialResource {

    /** {@code "7"}, or a bare {@code 7}: the version an {@code ETag} names. */
    private static final Pattern VERSION_TAG = Pattern.compile("\"?(0|[1-9][0-9]{0,8})\"?");

    /** Query parameter names that suggest someone put a secret into the URL (reliability case 26). */
    private static final Pattern SECRET_LIKE = Pattern.compile(".*(secret|password|key|token|credential).*");

    private final EnvironmentRegistry environments;
    private final CredentialService credentials;
    private final RotationService rotations;
    private final AccessPolicy access;
    private final Callers callers;
    private final SecurityIdentity identity;

    CredentialResource(EnvironmentRegistry environments, CredentialService credentials, RotationService rotations,
            AccessPolicy access, Callers callers, SecurityIdentity identity) {
        this.environments = environments;
        this.credentials = credentials;
        this.rotations = rotations;
        this.access = access;
        this.callers = callers;
        this.identity = identity;
    }

    /** The caller and the environment, once the caller's {@code credentials} grant on it is checked. */
    private record Authorized(Caller caller, Environment environment) {

        String callerName() {
            return caller.name();
        }
    }

    /**
     * Every credential endpoint starts here: the caller from its verified token, then its grant (a
     * refusal is audited and reads the same for unknown and forbidden environments), then the
     * environment.
     */
    private Authorized authorize(String name, AuditAction action, RoutingContext routing) {
        Caller caller = callers.of(identity);
        access.require(caller, name, Permission.CREDENTIALS, action, RequestIds.of(routing));
        return new Authorized(caller, environment(name));
    }

    @GET
    @Operation(summary = "Read an environment's current credential", description = "The app (client) ID, tenant"
            + " domain, version and creation time, and a hint of the secret (its first three characters); never the"
            + " secret. The ETag names the version, for If-Match on a rotation.")
    @APIResponse(responseCode = "200", description = "The current version; ETag: \"<version>\"",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = CredentialResponse.class)))
    @APIResponse(responseCode = "400", description = "The request carried query parameters",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "No such environment, or nothing stored for it",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "503", description = "Vault cannot be read now",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Response current(@PathParam("environment") String name, @Context UriInfo uri,
            @Context RoutingContext routing) {
        Authorized authorized = authorize(name, AuditAction.CREDENTIALS_READ, routing);
        Environment environment = authorized.environment();
        refuseQueryParameters(uri);
        var summary = credentials.current(authorized.callerName(), environment);
        return Response.ok(CredentialResponse.of(environment.name(), summary)).tag(etag(summary.version())).build();
    }

    @GET
    @Path("/versions")
    @Operation(summary = "List the versions of an environment's credential", description = "The versions Vault"
            + " still holds and that are not deleted or destroyed, newest first, each with a hint of its secret:"
            + " the candidates for restore_version.")
    @APIResponse(responseCode = "200", description = "The history",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = CredentialVersionsResponse.class)))
    @APIResponse(responseCode = "404", description = "No such environment, or nothing stored for it",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "503", description = "Vault cannot be read now",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public CredentialVersionsResponse versions(@PathParam("environment") String name, @Context UriInfo uri,
            @Context RoutingContext routing) {
        Authorized authorized = authorize(name, AuditAction.CREDENTIALS_READ, routing);
        Environment environment = authorized.environment();
        refuseQueryParameters(uri);
        return CredentialVersionsResponse.of(environment.name(),
                credentials.history(authorized.callerName(), environment));
    }

    @PUT
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Rotate an environment's credential, or restore a stored version", description = "The new"
            + " credential is proved with a real token request to Azure AD before it is stored, with check-and-set on"
            + " the version If-Match names. If Azure AD accepts it within a few seconds the answer is 200 with the new"
            + " version; otherwise 202, and the broker keeps proving in the background (Azure AD may take minutes to"
            + " accept a new key) while the old key keeps serving: follow Location. A credential that fails proof is"
            + " never stored. client_id and domain default to the current version's.")
    @RequestBody(content = @Content(mediaType = MediaType.APPLICATION_JSON, examples = {
            @ExampleObject(name = "rotate", value = "{\"client_secret\": \"<the new key>\"}"),
            @ExampleObject(name = "restore", value = "{\"restore_version\": 6}")}))
    @APIResponse(responseCode = "200", description = "Proved and stored; ETag names the new version",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = RotationResponse.class)))
    @APIResponse(responseCode = "202", description = "Still proving; Location is the rotation to follow",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = RotationResponse.class)))
    @APIResponse(responseCode = "400",
            description = "A malformed body or If-Match, or query parameters; field names the culprit",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "412",
            description = "If-Match is not the current version, another rotation is proving, or another writer stored first; nothing was stored",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "422",
            description = "Azure AD refused the credential, or restore_version cannot be restored; nothing was stored",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "428", description = "If-Match is missing",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "503", description = "Vault cannot be read or written now; nothing was stored",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Response change(@PathParam("environment") String name,
            @Parameter(description = "The version the change starts from, as the credential's ETag gave it: \"7\"",
                    required = true,
                    schema = @Schema(type = SchemaType.STRING)) @HeaderParam(HttpHeaders.IF_MATCH) String ifMatch,
            @Context UriInfo uri, @Context RoutingContext routing, String body) {
        Authorized authorized = authorize(name, AuditAction.CREDENTIALS_ROTATE, routing);
        Environment environment = authorized.environment();
        refuseQueryParameters(uri);
        int expectedVersion = expectedVersion(ifMatch);
        CredentialChange change = CredentialChangeRequest.parse(body);
        RotationStatus rotation = rotations.rotate(authorized.callerName(), environment, expectedVersion, change);
        if (rotation.state() == RotationStatus.State.COMPLETED) {
            return Response.ok(RotationResponse.of(rotation)).tag(etag(rotation.version())).build();
        }
        // As a path: not resolved against a Host header the caller chose.
        return Response.accepted(RotationResponse.of(rotation))
                .header(HttpHeaders.LOCATION, rotationPath(environment, rotation)).build();
    }

    @GET
    @Path("/rotations/{id}")
    @Operation(summary = "Follow a rotation", description = "proving, storing, completed (with the version stored),"
            + " failed (with error_code and Azure AD's AADSTS numbers), cancelled, or unknown while a lost write is read"
            + " back. Any replica answers: each rotation has a record in Vault, kept for broker.rotation.retention after"
            + " it finishes.")
    @APIResponse(responseCode = "200", description = "The rotation",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = RotationResponse.class)))
    @APIResponse(responseCode = "404", description = "No such rotation, or it finished over the retention ago",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "503", description = "Its record cannot be read from Vault now",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public RotationResponse rotation(@PathParam("environment") String name, @PathParam("id") String id,
            @Context UriInfo uri, @Context RoutingContext routing) {
        Environment environment = authorize(name, AuditAction.CREDENTIALS_ROTATION_READ, routing).environment();
        refuseQueryParameters(uri);
        return RotationResponse.of(rotations.status(environment, id));
    }

    @DELETE
    @Path("/rotations/{id}")
    @Operation(summary = "Cancel a rotation that is still proving", description = "Nothing is stored; the current"
            + " version stays. 200 when the rotation is cancelled (this replica was proving it, or it already was);"
            + " 202 with cancel_requested when another replica proves it: the cancel is recorded in Vault, the key"
            + " can no longer be stored, and that replica ends it at its next attempt. A rotation being stored,"
            + " completed or failed cannot be cancelled: to undo a completed one, restore the previous version.")
    @APIResponse(responseCode = "200", description = "Cancelled",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = RotationResponse.class)))
    @APIResponse(responseCode = "202",
            description = "Cancel requested: recorded, will not be stored, ends cancelled at the proving replica's next attempt",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = RotationResponse.class)))
    @APIResponse(responseCode = "404", description = "No such rotation, or it finished over the retention ago",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "409", description = "The rotation is being stored, completed or failed",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "503",
            description = "Its record cannot be read or written in Vault now; nothing changed",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Response cancel(@PathParam("environment") String name, @PathParam("id") String id, @Context UriInfo uri,
            @Context RoutingContext routing) {
        Authorized authorized = authorize(name, AuditAction.CREDENTIALS_ROTATE_CANCEL, routing);
        Environment environment = authorized.environment();
        refuseQueryParameters(uri);
        RotationStatus cancelled = rotations.cancel(authorized.callerName(), environment, id);
        return (cancelled.state() == RotationStatus.State.CANCELLED ? Response.ok() : Response.accepted())
                .entity(RotationResponse.of(cancelled)).build();
    }

    private Environment environment(String name) {
        return environments.find(name).orElseThrow(() -> new UnknownEnvironmentException(name));
    }

    /**
     * The credential endpoints take no query parameters; a secret must never travel in a URL, where
     * proxies and access logs keep it (reliability case 26). Nothing in the URL is repeated back.
     */
    private static void refuseQueryParameters(UriInfo uri) {
        if (uri.getQueryParameters().isEmpty()) {
            return;
        }
        boolean secretLike = uri.getQueryParameters().keySet().stream()
                .anyMatch(parameter -> SECRET_LIKE.matcher(parameter.toLowerCase(Locale.ROOT)).matches());
        if (secretLike) {
            throw new InvalidRequestException("query", "Secrets are accepted in the request body only, never in the"
                    + " URL. Nothing was changed; treat a secret sent this way as exposed and rotate it.");
        }
        throw new InvalidRequestException("query", "The credential endpoints take no query parameters.");
    }

    /** The version {@code If-Match} names: the ETag of the credential the change starts from. */
    static int expectedVersion(String ifMatch) {
        return expectedVersion(ifMatch, 1);
    }

    /**
     * As {@link #expectedVersion(String)}, for a resource whose versions start at {@code lowest}: 0 for
     * a record whose ETag {@code "0"} names "nothing stored yet".
     */
    static int expectedVersion(String ifMatch, int lowest) {
        if (ifMatch == null || ifMatch.isBlank()) {
            throw new PreconditionRequiredException("A change needs If-Match with the version it starts from, as the"
                    + " credential's ETag gives it: If-Match: \"7\". Read it with GET .../credentials.");
        }
        String value = ifMatch.strip();
        if (value.equals("*")) {
            throw new PreconditionRequiredException("If-Match: * does not name a version; give the version the change"
                    + " starts from, as the credential's ETag gives it: If-Match: \"7\".");
        }
        Matcher version = VERSION_TAG.matcher(value);
        if (!version.matches() || value.startsWith("\"") != value.endsWith("\"")
                || Integer.parseInt(version.group(1)) < lowest) {
            throw new InvalidRequestException(HttpHeaders.IF_MATCH, "If-Match must name one version, as the"
                    + " credential's ETag gives it: If-Match: \"7\" (a weak or a list of ETags cannot be used).");
        }
        return Integer.parseInt(version.group(1));
    }

    private static EntityTag etag(int version) {
        return new EntityTag(Integer.toString(version));
    }

    private static String rotationPath(Environment environment, RotationStatus rotation) {
        return "/v1/environments/" + environment.name() + "/credentials/rotations/" + rotation.id();
    }
}
