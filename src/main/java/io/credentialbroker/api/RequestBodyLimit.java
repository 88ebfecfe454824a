package io.credentialbroker.api;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * Refuses a request whose body is larger than any the API takes (413 problem+json), before a byte
 * of it is read: the largest body the broker accepts is a credential change of a few hundred bytes.
 * A body sent without a declared length (chunked) is refused with 411: every API request has a
 * small body its client knows the length of, and an unbounded stream would have to be read to be
 * judged. {@code quarkus.http.limits.max-body-size} stays as a backstop.
 */
@ApplicationScoped
public class RequestBodyLimit {

    /** Keep equal to {@code quarkus.http.limits.max-body-size} in application.properties. */
    public static final long MAX_BYTES = 8 * 1024;

    void install(@Observes Router router) {
        // before every other route: nothing else may buffer the body first
        router.route().order(Integer.MIN_VALUE).handler(context -> {
            String length = context.request().getHeader(HttpHeaders.CONTENT_LENGTH);
            if (length != null && isOver(length)) {
                refuse(context, 413, "payload-too-large", "Payload too large", "payload_too_large",
                        "The request body is over " + MAX_BYTES + " bytes; no request to this API needs that much.");
            } else if (length == null && context.request().getHeader(HttpHeaders.TRANSFER_ENCODING) != null) {
                refuse(context, 411, "length-required", "Length required", "length_required",
                        "Send the body with a Content-Length (at most " + MAX_BYTES + " bytes), not chunked.");
            } else {
                context.next();
            }
        });
    }

    private static void refuse(RoutingContext context, int status, String type, String title, String code,
            String detail) {
        context.response().setStatusCode(status)
                .putHeader(HttpHeaders.CONTENT_TYPE, Problem.MEDIA_TYPE)
                .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
                .putHeader(HttpHeaders.CONNECTION, "close")
                .end("{\"type\":\"" + Problem.type(type) + "\",\"title\":\"" + title + "\",\"status\":" + status
                        + ",\"detail\":\"" + detail + "\",\"code\":\"" + code + "\"}");
    }

    private static boolean isOver(String contentLength) {
        try {
            return Long.parseLong(contentLength.trim()) > MAX_BYTES;
        } catch (NumberFormatException e) {
            return true; // Vert.x refuses a malformed length anyway; never read such a body
        }
    }
}
