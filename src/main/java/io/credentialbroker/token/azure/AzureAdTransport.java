package io.credentialbroker.token.azure;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntConsumer;

/**
 * Sends one form to an Azure AD token endpoint and collects the answer, within one time budget from
 * the start of the request (connecting included) to the last byte of the answer, and a size limit.
 * The JDK {@link HttpClient} rather than quarkus-oidc-client, which hides the status, the
 * {@code Retry-After} header and the {@code error_codes} the cache must act on
 * (docs/upstream-behaviour.md, "quarkus-oidc-client"). Redirects are never followed: the form holds
 * the client secret.
 */
final class AzureAdTransport {

    /**
     * Azure AD's token answers are a few KiB; anything much larger is not one, and is not worth holding
     * in memory.
     */
    static final int MAX_RESPONSE_BYTES = 64 * 1024;

    /** Broker error codes for requests that got no usable answer. */
    static final String TIMEOUT = "timeout";
    static final String CONNECTION_FAILED = "connection_failed";
    static final String INTERRUPTED = "interrupted";

    private final Duration readTimeout;
    private final HttpClient httpClient;

    /**
     * @param connectTimeout
     *            how long establishing the connection may take
     * @param readTimeout
     *            how long one request may take in all, from its start (connecting included) to the last
     *            byte of the answer
     */
    AzureAdTransport(Duration connectTimeout, Duration readTimeout) {
        requirePositive(connectTimeout, "connectTimeout");
        this.readTimeout = requirePositive(readTimeout, "readTimeout");
        this.httpClient = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(connectTimeout)
                // A redirect from a token endpoint means the endpoint is misconfigured; following it
                // would send the form, secret included, somewhere we were not told to.
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    /**
     * Posts {@code form} and returns the whole answer.
     *
     * @param startNanos
     *            when the request began ({@link System#nanoTime()}): the budget counts from there
     * @param onStatus
     *            told the status as soon as the headers arrive
     * @throws NoAnswerException
     *             for a timeout, a failed connection, an oversized answer or an interruption; its
     *             message names only the broker's code, never anything received
     * @throws IllegalArgumentException
     *             if the endpoint is not an http(s) URI
     */
    HttpResponse<byte[]> post(URI endpoint, String form, String clientRequestId, long startNanos,
            IntConsumer onStatus) throws NoAnswerException {
        HttpRequest request = HttpRequest.newBuilder(endpoint)
                .timeout(readTimeout)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Accept", "application/json")
                // Azure AD echoes this as correlation_id, so a timed-out request can still be traced.
                .header("client-request-id", clientRequestId)
                .header("return-client-request-id", "true")
                .POST(HttpRequest.BodyPublishers.ofString(form))
                .build();
        // The JDK's request timeout ends when the response headers arrive; the body gets the rest of
        // the same budget, so a trickling answer cannot hold the refresh thread past the read timeout.
        long deadline = startNanos + readTimeout.toNanos();
        int[] status = {0};
        try {
            return httpClient.send(request, info -> {
                status[0] = info.statusCode();
                onStatus.accept(info.statusCode());
                return new BoundedBodySubscriber(MAX_RESPONSE_BYTES, deadline - System.nanoTime());
            });
        } catch (HttpTimeoutException e) {
            throw new NoAnswerException(TIMEOUT, 0, e);
        } catch (IOException | UncheckedIOException e) {
            if (causedBy(e, TimeoutException.class)) {
                throw new NoAnswerException(TIMEOUT, 0, e);
            }
            if (causedBy(e, ResponseTooLargeException.class)) {
                throw new NoAnswerException(AzureAdAnswers.MALFORMED_RESPONSE, status[0], e);
            }
            throw new NoAnswerException(CONNECTION_FAILED, 0, e);
        } catch (InterruptedException e) {
            // The cache's refresh thread is being stopped; let it see that.
            Thread.currentThread().interrupt();
            throw new NoAnswerException(INTERRUPTED, 0, e);
        }
    }

    /** No usable answer arrived. The cause is kept for its type only: its message can quote bytes. */
    static final class NoAnswerException extends Exception {

        private static final long serialVersionUID = 1L;

        private final String error;
        private final int status;

        NoAnswerException(String error, int status, Throwable cause) {
            super(error, cause, false, false);
            this.error = error;
            this.status = status;
        }

        String error() {
            return error;
        }

        /** The status, if headers arrived before the answer became unusable; 0 otherwise. */
        int status() {
            return status;
        }
    }

    /** The JDK wraps what a body subscriber fails with, more than once. */
    private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    private static Duration requirePositive(Duration duration, String name) {
        Objects.requireNonNull(duration, name);
        if (duration.isNegative() || duration.isZero()) {
            throw new IllegalArgumentException(name + " must be positive, was " + duration);
        }
        return duration;
    }

    /** The response was larger than any token answer. Carries no content. */
    static final class ResponseTooLargeException extends IOException {

        private static final long serialVersionUID = 1L;

        ResponseTooLargeException() {
            super("response body exceeds " + MAX_RESPONSE_BYTES + " bytes");
        }
    }

    /**
     * Collects the body like {@code BodySubscribers.ofByteArray()}, but gives up past a size limit or a
     * deadline instead of buffering, or waiting for, whatever a broken endpoint streams at us. Giving
     * up cancels the subscription, which closes the connection.
     */
    static final class BoundedBodySubscriber implements HttpResponse.BodySubscriber<byte[]> {

        private final int limit;
        private final long timeLeftNanos;
        private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        private final CompletableFuture<byte[]> body = new CompletableFuture<>();

        BoundedBodySubscriber(int limit, long timeLeftNanos) {
            this.limit = limit;
            this.timeLeftNanos = Math.max(timeLeftNanos, 0);
        }

        @Override
        public CompletionStage<byte[]> getBody() {
            return body;
        }

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            subscription.request(Long.MAX_VALUE);
            // Armed after request(), so the one cancel() (from here or the size check below) never
            // overlaps it; a no-op if the body already completed.
            body.orTimeout(timeLeftNanos, TimeUnit.NANOSECONDS).whenComplete((bytes, failure) -> {
                if (failure != null) {
                    subscription.cancel();
                }
            });
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            if (body.isDone()) {
                return;
            }
            for (ByteBuffer item : items) {
                if (buffer.size() + item.remaining() > limit) {
                    body.completeExceptionally(new ResponseTooLargeException());
                    return;
                }
                byte[] bytes = new byte[item.remaining()];
                item.get(bytes);
                buffer.writeBytes(bytes);
            }
        }

        @Override
        public void onError(Throwable throwable) {
            body.completeExceptionally(throwable);
        }

        @Override
        public void onComplete() {
            body.complete(buffer.toByteArray());
        }
    }
}
