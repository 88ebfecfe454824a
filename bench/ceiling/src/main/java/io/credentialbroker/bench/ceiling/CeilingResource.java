package io.credentialbroker.bench.ceiling;

import java.nio.charset.StandardCharsets;

import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.smallrye.common.annotation.NonBlocking;

/**
 * The broker's token endpoint with nothing behind it: same path, method, headers and body size,
 * answered on the event loop from a constant. What this serves is the practical limit of the stack.
 */
@Path("/v1/environments")
public class CeilingResource {

    private final byte[] body;

    CeilingResource(@ConfigProperty(name = "ceiling.body-bytes") int bodyBytes) {
        String head = "{\"environment\":\"sandbox\",\"token_type\":\"Bearer\",\"access_token\":\"fake-ceiling-token-";
        String tail = "\",\"expires_in\":600,\"expires_at\":\"2026-11-24T12:05:00Z\","
                + "\"resource\":\"https://api.partnercenter.microsoft.com\",\"credential_version\":1}";
        int padding = Math.max(0, bodyBytes - head.length() - tail.length());
        this.body = (head + "x".repeat(padding) + tail).getBytes(StandardCharsets.UTF_8);
    }

    @POST
    @Path("/{environment}/token")
    @Produces(MediaType.APPLICATION_JSON)
    @NonBlocking
    public Response token(@PathParam("environment") String environment) {
        return Response.ok(body).header("Broker-Environment", environment).header("Cache-Control", "no-store")
                .header("Pragma", "no-cache").header("X-Request-Id", "00000000-0000-4000-8000-000000000000")
                .build();
    }
}
