package io.credentialbroker.api;

import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.core.HttpHeaders;

import org.jboss.resteasy.reactive.server.ServerResponseFilter;

/**
 * Nothing about a credential may be kept by a browser, proxy or gateway cache: every answer under
 * {@code /v1/environments/{env}/credentials}, errors included, says
 * {@code Cache-Control: no-store}.
 */
public class CredentialCacheControl {

    @ServerResponseFilter
    public void noStore(ContainerRequestContext request, ContainerResponseContext response) {
        String path = request.getUriInfo().getPath();
        if (path.startsWith("/v1/environments/") && path.contains("/credentials")) {
            response.getHeaders().putSingle(HttpHeaders.CACHE_CONTROL, "no-store");
            response.getHeaders().putSingle("Pragma", "no-cache");
        }
    }
}
