package io.credentialbroker.bench.floor;

import jakarta.ws.rs.container.ContainerResponseContext;

import org.jboss.resteasy.reactive.server.ServerRequestFilter;
import org.jboss.resteasy.reactive.server.ServerResponseFilter;

import io.vertx.ext.web.RoutingContext;

/**
 * The broker's request-id filters without their work: a pre-matching filter keeps an id on the
 * request's {@link RoutingContext} and a response filter returns it as {@code X-Request-Id}. The id is
 * a constant (the broker takes the caller's or makes one up, and puts it in the MDC).
 */
public class RequestIdFilters {

    private static final String HEADER = "X-Request-Id";
    private static final String KEY = RequestIdFilters.class.getName();
    private static final String ID = "00000000-0000-4000-8000-000000000000";

    @ServerRequestFilter(preMatching = true)
    void onRequest(RoutingContext routing) {
        routing.put(KEY, ID);
    }

    @ServerResponseFilter
    void onResponse(RoutingContext routing, ContainerResponseContext response) {
        Object id = routing.get(KEY);
        response.getHeaders().putSingle(HEADER, id == null ? ID : id.toString());
    }
}
