package io.credentialbroker.api;

import java.util.UUID;
import java.util.regex.Pattern;

import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerResponseContext;

import org.jboss.logging.MDC;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;
import org.jboss.resteasy.reactive.server.ServerResponseFilter;

import io.credentialbroker.access.AccessPolicy;
import io.credentialbroker.audit.AuditLog;

/**
 * Gives every API request an id, taken from the caller's {@code X-Request-Id} when it is a plain
 * token, else made up, and returns it in the response: audit events and the log lines written while
 * serving the request (its MDC key {@code request_id}) carry it, so a caller's report can be
 * matched to the broker's record. With authentication off (dev profile), every response also says
 * so.
 */
public class RequestIds {

    public static final String HEADER = "X-Request-Id";
    public static final String AUTH_WARNING_HEADER = "Broker-Auth-Warning";
    private static final String PROPERTY = RequestIds.class.getName();
    private static final Pattern ACCEPTABLE = Pattern.compile("[A-Za-z0-9._:-]{1,64}");

    private final AccessPolicy access;

    RequestIds(AccessPolicy access) {
        this.access = access;
    }

    static String of(ContainerRequestContext request) {
        Object id = request.getProperty(PROPERTY);
        return id == null ? assign(request) : id.toString();
    }

    @ServerRequestFilter(preMatching = true)
    void onRequest(ContainerRequestContext request) {
        MDC.put(AuditLog.REQUEST_ID, assign(request));
    }

    @ServerResponseFilter
    void onResponse(ContainerRequestContext request, ContainerResponseContext response) {
        response.getHeaders().putSingle(HEADER, of(request));
        if (!access.authEnabled()) {
            response.getHeaders().putSingle(AUTH_WARNING_HEADER,
                    "authentication is off (dev profile): never expose this broker");
        }
        MDC.remove(AuditLog.REQUEST_ID);
    }

    private static String assign(ContainerRequestContext request) {
        String offered = request.getHeaderString(HEADER);
        String id = offered != null && ACCEPTABLE.matcher(offered).matches() ? offered : UUID.randomUUID().toString();
        request.setProperty(PROPERTY, id);
        return id;
    }
}
