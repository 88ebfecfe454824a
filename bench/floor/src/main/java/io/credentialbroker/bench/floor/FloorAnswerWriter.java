package io.credentialbroker.bench.floor;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.annotation.Annotation;
import java.lang.reflect.Type;

import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.MultivaluedMap;
import jakarta.ws.rs.ext.Provider;

import org.jboss.resteasy.reactive.server.spi.ResteasyReactiveResourceInfo;
import org.jboss.resteasy.reactive.server.spi.ServerMessageBodyWriter;
import org.jboss.resteasy.reactive.server.spi.ServerRequestContext;

/**
 * Writes a {@link FloorAnswer} as the broker writes its token answer: the headers straight onto the
 * Vert.x response, then the body's bytes.
 */
@Provider
@Produces(MediaType.APPLICATION_JSON)
public class FloorAnswerWriter implements ServerMessageBodyWriter<FloorAnswer> {

    @Override
    public boolean isWriteable(Class<?> type, Type genericType, ResteasyReactiveResourceInfo target,
            MediaType mediaType) {
        return type == FloorAnswer.class;
    }

    @Override
    public boolean isWriteable(Class<?> type, Type genericType, Annotation[] annotations, MediaType mediaType) {
        return type == FloorAnswer.class;
    }

    @Override
    public void writeResponse(FloorAnswer answer, Type genericType, ServerRequestContext context) {
        context.serverResponse().setResponseHeader("Broker-Environment", answer.environment())
                .setResponseHeader("Cache-Control", "no-store").setResponseHeader("Pragma", "no-cache")
                .end(answer.body());
    }

    @Override
    public void writeTo(FloorAnswer answer, Class<?> type, Type genericType, Annotation[] annotations,
            MediaType mediaType, MultivaluedMap<String, Object> httpHeaders, OutputStream entityStream)
            throws IOException {
        httpHeaders.putSingle("Broker-Environment", answer.environment());
        httpHeaders.putSingle("Cache-Control", "no-store");
        httpHeaders.putSingle("Pragma", "no-cache");
        entityStream.write(answer.body());
    }
}
