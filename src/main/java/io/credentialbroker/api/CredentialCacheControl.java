package io.credentialbroker.api;

import jakarta.inject.Singleton;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.core.HttpHeaders;

import org.jboss.resteasy.reactive.server.ServerResponseFilter;

import io.vertx.core.http.HttpServerRequest;

/**
 * Nothing about a credential may be kept by a browser, proxy or gateway cache: every answer under
 * {@code /v1/environments/{env}/credentials}, errors included, says
 * {@code Cache-Control: no-store}.
 *
 * <p>
 * Global rather than bound by name to the credential resource: a name-bound filter never sees the
 * answers to requests that matched no method (415 for a body that is not JSON, 405), and those must
 * say {@code no-store} too. So it decides on the raw path Vert.x already parsed (no decoded path is
 * built per request); the profile of the token endpoint shows no sample in it (bench/RESULTS.md).
 */
@Singleton
public class CredentialCacheControl {

    private static final String PREFIX = "/v1/environments/";

    @ServerResponseFilter
    public void noStore(HttpServerRequest request, ContainerResponseContext response) {
        String path = request.path();
        if (path != null && path.startsWith(PREFIX) && path.indexOf("/credentials", PREFIX.length()) > 0) {
            response.getHeaders().putSingle(HttpHeaders.CACHE_CONTROL, "no-store");
            response.getHeaders().putSingle("Pragma", "no-cache");
        }
    }
}
