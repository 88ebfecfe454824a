package io.credentialbroker.api;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

import jakarta.ws.rs.container.ContainerResponseContext;

import org.jboss.logging.MDC;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;
import org.jboss.resteasy.reactive.server.ServerResponseFilter;

import io.credentialbroker.access.AccessPolicy;
import io.credentialbroker.audit.AuditLog;
import io.vertx.core.MultiMap;
import io.vertx.ext.web.RoutingContext;

/**
 * Gives every API request an id, taken from the caller's {@code X-Request-Id} when it is a plain
 * token, else made up, and returns it in the response: audit events and the log lines written while
 * serving the request (its MDC key {@code request_id}) carry it, so a caller's report can be
 * matched to the broker's record. With authentication off (dev profile), every response also says
 * so.
 *
 * <p>
 * The id is kept on the request's Vert.x {@link RoutingContext}, which RESTEasy Reactive hands a
 * resource's {@code @Context} parameter directly; a {@code @Context ContainerRequestContext}
 * parameter is looked up through {@code CDI.current()} and built as a request-scoped bean on every
 * request.
 */
public class RequestIds {

    public static final String HEADER = "X-Request-Id";
    public static final String AUTH_WARNING_HEADER = "Broker-Auth-Warning";
    private static final String KEY = RequestIds.class.getName();
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

    static String of(RoutingContext routing) {
        Object id = routing.get(KEY);
        return id == null ? assign(routing) : id.toString();
    }

    @ServerRequestFilter(preMatching = true)
    void onRequest(RoutingContext routing) {
        MDC.put(AuditLog.REQUEST_ID, assign(routing));
    }

    @ServerResponseFilter
    void onResponse(RoutingContext routing, ContainerResponseContext response) {
        response.getHeaders().putSingle(HEADER, of(routing));
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

    /** The caller's {@code X-Request-Id} if it is one plain token (a repeated header is not one id). */
    private static String assign(RoutingContext routing) {
        MultiMap headers = routing.request().headers();
        String offered = headers.get(HEADER);
        String id = offered != null && ACCEPTABLE.matcher(offered).matches() && headers.getAll(HEADER).size() == 1
                ? offered
                : next();
        routing.put(KEY, id);
        return id;
    }
}
