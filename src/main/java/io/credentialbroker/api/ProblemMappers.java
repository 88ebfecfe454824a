package io.credentialbroker.api;

import java.time.Duration;

import jakarta.ws.rs.NotAllowedException;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;

import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import io.credentialbroker.access.AccessDeniedException;
import io.credentialbroker.access.NotAuthenticatedException;
import io.credentialbroker.access.RateLimitedException;
import io.credentialbroker.environment.EnvironmentRegistry;
import io.credentialbroker.environment.UnknownEnvironmentException;
import io.credentialbroker.token.TokenUnavailableException;
import io.quarkus.oidc.OIDCException;
import io.quarkus.security.AuthenticationCompletionException;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.ForbiddenException;
import io.quarkus.security.UnauthorizedException;

/**
 * The one place where failures become HTTP answers: every error is problem+json, and none carries
 * an exception message, a stack trace or an upstream's words.
 */
public class ProblemMappers {

    private static final Logger LOG = Logger.getLogger(ProblemMappers.class);

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
                        "This caller is over its token request rate limit; retry after " + retryAfter + " s.", null,
                        "rate_limited", retryAfter))
                .build();
    }

    @ServerExceptionMapper
    Response badRequest(InvalidRequestException e) {
        return problem(new Problem(Problem.type("invalid-request"), "Invalid request", 400, e.getMessage(), null, null,
                null));
    }

    @ServerExceptionMapper
    Response notFound(NotFoundException e) {
        return problem(new Problem(Problem.type("not-found"), "Not found", 404, "No resource at this path.", null,
                null, null));
    }

    @ServerExceptionMapper
    Response notAllowed(NotAllowedException e) {
        Response original = e.getResponse();
        Response.ResponseBuilder answer = Response.status(405).type(Problem.MEDIA_TYPE)
                .entity(new Problem(Problem.type("method-not-allowed"), "Method not allowed", 405,
                        "This resource does not answer that method.", null, null, null));
        if (original.getHeaderString(HttpHeaders.ALLOW) != null) {
            answer.header(HttpHeaders.ALLOW, original.getHeaderString(HttpHeaders.ALLOW));
        }
        return answer.build();
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
