package io.credentialbroker.bench.floor;

import java.io.InputStream;

import jakarta.ws.rs.container.ContainerRequestContext;

import org.jboss.resteasy.reactive.server.ServerRequestFilter;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;

/**
 * The broker's own filter, copied: a request that declares no body (HTTP/1.x, no
 * {@code Content-Length}, no {@code Transfer-Encoding}) gets an empty one before RESTEasy Reactive goes
 * to read it for the {@code String body} parameter. Without it the request is suspended until Vert.x
 * delivers its end and resumed in a task of its own; the broker spares itself that, and so does the
 * floor, so that the floor counts only what the framework cannot be spared.
 */
public class BodylessRequests {

    @ServerRequestFilter(preMatching = true)
    void onRequest(HttpServerRequest http, ContainerRequestContext request) {
        if (declaresNoBody(http)) {
            request.setEntityStream(InputStream.nullInputStream());
        }
    }

    private static boolean declaresNoBody(HttpServerRequest http) {
        if (http.version() == HttpVersion.HTTP_2 || http.headers().contains(HttpHeaders.TRANSFER_ENCODING)) {
            return false;
        }
        String length = http.getHeader(HttpHeaders.CONTENT_LENGTH);
        return length == null || length.strip().equals("0");
    }
}
