package io.credentialbroker.api;

import java.time.Duration;
import java.util.Set;

import jakarta.ws.rs.NotAllowedException;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;

import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import io.credentialbroker.access.AccessDeniedException;
import io.credentialbroker.access.NotAuthenticatedException;
import io.credentialbroker.access.RateLimitedException;
import io.credentialbroker.consent.AppUserRefusedException;
import io.credentialbroker.credential.CredentialStoreException;
import io.credentialbroker.environment.EnvironmentRegistry;
import io.credentialbroker.environment.UnknownEnvironmentException;
import io.credentialbroker.rotation.RotationRefusedException;
import io.credentialbroker.rotation.UnknownRotationException;
import io.credentialbroker.token.TokenUnavailableException;
import io.quarkus.oidc.OIDCException;
import io.quarkus.security.AuthenticationCompletionException;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.ForbiddenException;
import io.quarkus.security.UnauthorizedException;
import io.vertx.ext.web.RoutingContext;

/**
 * The one place where failures become HTTP answers: every error is problem+json, and none carries
 * an exception message, a stack trace or an upstream's words.
 */
public class ProblemMappers {

    private static final Logger LOG = Logger.getLogger(ProblemMappers.class);

    /**
     * How soon to try again when Vault is down or sealed: a few seconds, as an unseal or failover
     * takes.
     */
    private static final long VAULT_RETRY_AFTER_SECONDS = 5;

    /**
     * Retry-After for what only ops can fix (a missing or malformed Vault entry, a Vault policy that
     * refuses): asking sooner gets the same answer.
     */
    private static final long CONFIGURATION_RETRY_AFTER_SECONDS = 30;

    private final AllowedMethods allowedMethods;

    ProblemMappers(AllowedMethods allowedMethods) {
        this.allowedMethods = allowedMethods;
    }

    @ServerExceptionMapper
    Response unknownEnvironment(UnknownEnvironmentException e) {
        String requested = e.requested();
        String detail = EnvironmentRegistry.isWellFormedName(requested)
                ? "The broker serves no environment named '" + requested + "'."
                : "The broker serves no such environment.";
        return problem(new Problem(Problem.type("unknown-environment"), "Unknown environment", 404, detail, null,
                null, null));
    }

    @ServerExceptionMapper
    Response tokenUnavailable(TokenUnavailableException e) {
        long retryAfter = seconds(e.retryAfter());
        Problem problem = new Problem(Problem.type("token-unavailable"), "No token available", 503,
                "No token that may be handed out can be had for environment '" + e.environment()
                        + "' now (" + e.reason().code() + "); retry after " + retryAfter + " s.",
                e.environment(), e.reason().code(), retryAfter);
        return Response.status(503).type(Problem.MEDIA_TYPE).header(HttpHeaders.RETRY_AFTER, retryAfter)
                .header(HttpHeaders.CACHE_CONTROL, "no-store").entity(problem).build();
    }

    @ServerExceptionMapper({UnauthorizedException.class, AuthenticationFailedException.class,
            AuthenticationCompletionException.class, NotAuthenticatedException.class})
    Response unauthenticated(Exception e) {
        // The same answer for a missing, malformed, expired, wrongly signed or wrong-audience token:
        // which check failed would only help someone forging one.
        String detail = e instanceof NotAuthenticatedException
                ? e.getMessage()
                : "A valid bearer token for this broker is required.";
        return Response.status(401).type(Problem.MEDIA_TYPE)
                .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"credential-broker\"")
                .entity(new Problem(Problem.type("unauthenticated"), "Unauthenticated", 401, detail, null, null, null))
                .build();
    }

    @ServerExceptionMapper
    Response callerVerificationUnavailable(OIDCException e) {
        // The issuer's keys could not be had: no token can be verified, so none is accepted (case 29).
        LOG.warn("Callers' tokens cannot be verified: the issuer's keys are unavailable");
        return Response.status(503).type(Problem.MEDIA_TYPE).header(HttpHeaders.RETRY_AFTER, 5)
                .entity(new Problem(Problem.type("caller-verification-unavailable"), "Cannot verify callers", 503,
                        "The broker cannot verify bearer tokens now; retry after 5 s.", null,
                        "caller_verification_unavailable", 5L))
                .build();
    }

    @ServerExceptionMapper({AccessDeniedException.class, ForbiddenException.class})
    Response forbidden(Exception e) {
        String detail = e instanceof AccessDeniedException ? e.getMessage() : "The caller may not do this.";
        return problem(new Problem(Problem.type("forbidden"), "Forbidden", 403, detail, null, "not_granted", null));
    }

    @ServerExceptionMapper
    Response rateLimited(RateLimitedException e) {
        long retryAfter = seconds(e.retryAfter());
        return Response.status(429).type(Problem.MEDIA_TYPE).header(HttpHeaders.RETRY_AFTER, retryAfter)
                .entity(new Problem(Problem.type("rate-limited"), "Too many requests", 429,
                        "This caller is over its request rate limit; retry after " + retryAfter + " s.", null,
                        "rate_limited", retryAfter))
                .build();
    }

    @ServerExceptionMapper
    Response badRequest(InvalidRequestException e) {
        return problem(new Problem(Problem.type("invalid-request"), "Invalid request", 400, e.getMessage(), null, null,
                null, e.field()));
    }

    @ServerExceptionMapper
    Response preconditionRequired(PreconditionRequiredException e) {
        return problem(new Problem(Problem.type("precondition-required"), "Precondition required", 428,
                e.getMessage(), null, "if_match_required", null, HttpHeaders.IF_MATCH));
    }

    /** Rotations refused, or failed while the request waited: nothing was stored (cases 23, 24). */
    @ServerExceptionMapper
    Response rotationRefused(RotationRefusedException e) {
        Problem problem = switch (e.reason()) {
            case STALE_VERSION, ROTATION_IN_PROGRESS, VERSION_CONFLICT -> new Problem(
                    Problem.type("precondition-failed"), "Precondition failed", 412, e.getMessage(), e.environment(),
                    e.code(), null, e.reason() == RotationRefusedException.Reason.STALE_VERSION
                            ? HttpHeaders.IF_MATCH
                            : null);
            case UNUSABLE_FIELD -> new Problem(Problem.type("change-not-possible"), "Change not possible", 422,
                    e.getMessage(), e.environment(), e.code(), null, e.field());
            case PROOF_FAILED -> new Problem(Problem.type("credential-not-accepted"), "Credential not accepted", 422,
                    e.getMessage(), e.environment(), e.code(), null, e.field());
            case CANCELLED, FINISHED -> new Problem(Problem.type("rotation-finished"), "Rotation finished", 409,
                    e.getMessage(), e.environment(), e.code(), null, null);
        };
        return problem(problem);
    }

    /**
     * App+user consent changes refused, by hand ({@code PUT .../app-user}) or at a consent's callback:
     * nothing was stored. Not to be cached: the page a browser lands on must not be shown again.
     */
    @ServerExceptionMapper
    Response appUserRefused(AppUserRefusedException e) {
        String title = switch (e.reason().status()) {
            case 412 -> "Precondition failed";
            case 409 -> "Not installed";
            default -> "Grant not accepted";
        };
        String type = switch (e.reason().status()) {
            case 412 -> "precondition-failed";
            case 409 -> "app-user-not-installed";
            default -> "grant-not-accepted";
        };
        Problem problem = new Problem(Problem.type(type), title, e.reason().status(), e.getMessage(), e.environment(),
                e.reason().code(), null, e.reason() == AppUserRefusedException.Reason.STALE_VERSION
                        ? HttpHeaders.IF_MATCH
                        : null);
        return Response.status(problem.status()).type(Problem.MEDIA_TYPE).header(HttpHeaders.CACHE_CONTROL, "no-store")
                .entity(problem).build();
    }

    @ServerExceptionMapper
    Response unknownRotation(UnknownRotationException e) {
        return problem(new Problem(Problem.type("unknown-rotation"), "Unknown rotation", 404,
                "Environment '" + e.environment() + "' has no such rotation: it never existed, or finished longer than"
                        + " the retention ago. GET .../credentials shows the version in force.",
                e.environment(), "unknown_rotation", null));
    }

    /**
     * The credential endpoints read and write Vault directly. The store's message names paths and
     * Vault's phrases; the caller gets the broker's sentence and the stable code only. As on the token
     * endpoint, what the request cannot change (Vault down, refusing, empty or holding something
     * unusable) is 503 with a {@code Retry-After}: short for an outage, longer for what only ops can
     * fix.
     */
    @ServerExceptionMapper
    Response credentialStore(CredentialStoreException e) {
        String environment = e.environment();
        String code = e.reason().code();
        return switch (e.reason()) {
            case NOT_FOUND -> unavailable(new Problem(Problem.type("environment-not-configured"),
                    "Environment not configured", 503, "Vault holds no credential for environment '" + environment
                            + "'; ops: seed it. Retry after " + CONFIGURATION_RETRY_AFTER_SECONDS + " s.",
                    environment, code, CONFIGURATION_RETRY_AFTER_SECONDS));
            case UNAVAILABLE -> unavailable(new Problem(Problem.type("vault-unavailable"), "Vault unavailable", 503,
                    "Vault is sealed, down or too slow; this request changed nothing. Retry after "
                            + VAULT_RETRY_AFTER_SECONDS + " s.",
                    environment, code, VAULT_RETRY_AFTER_SECONDS));
            case PERMISSION_DENIED -> unavailable(new Problem(Problem.type("vault-refused"),
                    "Vault refused the broker", 503,
                    "Vault refused the broker's request; this request changed nothing. Ops: check the broker's Vault"
                            + " policy and role. Retry after " + CONFIGURATION_RETRY_AFTER_SECONDS + " s.",
                    environment, code, CONFIGURATION_RETRY_AFTER_SECONDS));
            case INVALID_CONTENT -> unavailable(new Problem(Problem.type("credential-malformed"),
                    "Credential malformed", 503, "What Vault holds for environment '" + environment + "' is not a"
                            + " usable credential; rotate it giving client_secret, client_id and domain. Retry after "
                            + CONFIGURATION_RETRY_AFTER_SECONDS + " s.",
                    environment, code, CONFIGURATION_RETRY_AFTER_SECONDS));
        };
    }

    private static Response unavailable(Problem problem) {
        return Response.status(503).type(Problem.MEDIA_TYPE).header(HttpHeaders.RETRY_AFTER, problem.retryAfter())
                .header(HttpHeaders.CACHE_CONTROL, "no-store").entity(problem).build();
    }

    @ServerExceptionMapper
    Response notFound(NotFoundException e, ContainerRequestContext request, RoutingContext routing) {
        Set<String> allowed = allowedMethods.at(routing);
        if (!allowed.isEmpty() && !allowed.contains(request.getMethod())) {
            // The path exists. RESTEasy Reactive says 404 when, after the path's own resource class, it also
            // tries one whose path is a prefix of it (/v1/environments for .../credentials) and finds nothing.
            return methodNotAllowed(allowed);
        }
        return problem(new Problem(Problem.type("not-found"), "Not found", 404, "No resource at this path.", null,
                null, null));
    }

    /**
     * RESTEasy Reactive's exception carries no {@code Allow}, which a 405 must (RFC 9110, section
     * 15.5.6).
     */
    @ServerExceptionMapper
    Response notAllowed(NotAllowedException e, RoutingContext routing) {
        return methodNotAllowed(allowedMethods.at(routing));
    }

    private static Response methodNotAllowed(Set<String> allowed) {
        Response.ResponseBuilder answer = Response.status(405).type(Problem.MEDIA_TYPE)
                .entity(new Problem(Problem.type("method-not-allowed"), "Method not allowed", 405,
                        "This resource does not answer that method.", null, null, null));
        return allowed.isEmpty() ? answer.build() : answer.allow(allowed).build();
    }

    @ServerExceptionMapper
    Response webApplication(WebApplicationException e) {
        int status = e.getResponse().getStatus();
        Response.StatusType statusType = e.getResponse().getStatusInfo();
        String title = statusType.getReasonPhrase() == null ? "Error" : statusType.getReasonPhrase();
        return problem(new Problem(Problem.type("http-" + status), title, status,
                "The request could not be served (" + title + ").", null, null, null));
    }

    @ServerExceptionMapper
    Response unexpected(Exception e) {
        // The class only: a library's exception message may quote what it was handling.
        LOG.errorf("Unexpected failure serving a request: %s", e.getClass().getName());
        return problem(new Problem(Problem.type("internal-error"), "Internal error", 500,
                "The broker failed to serve this request; the failure is logged.", null, null, null));
    }

    private static Response problem(Problem problem) {
        return Response.status(problem.status()).type(Problem.MEDIA_TYPE).entity(problem).build();
    }

    private static long seconds(Duration duration) {
        long seconds = duration.getSeconds() + (duration.getNano() > 0 ? 1 : 0);
        return Math.max(1, seconds);
    }
}
