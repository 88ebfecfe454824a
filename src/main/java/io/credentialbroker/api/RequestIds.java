package io.credentialbroker.api;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicLong;
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
    /**
     * Made-up ids are this process's random prefix (64 bits, drawn once) and a counter: unique within
     * the process by construction and across replicas with overwhelming probability, and cheap. A
     * random UUID per request would draw from SecureRandom, behind one lock for the whole JVM, for an
     * id that needs no secrecy.
     */
    private static final String PREFIX = HexFormat.of().toHexDigits(new SecureRandom().nextLong()) + "-";
    private static final AtomicLong COUNTER = new AtomicLong();

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

    /** A new id, e.g. {@code 5f3a9c0e1b2d4f67-1a2b}. */
    static String next() {
        return PREFIX + Long.toHexString(COUNTER.incrementAndGet());
    }

    private static String assign(ContainerRequestContext request) {
        String offered = request.getHeaderString(HEADER);
        String id = offered != null && ACCEPTABLE.matcher(offered).matches() ? offered : next();
        request.setProperty(PROPERTY, id);
        return id;
    }
}
