package io.credentialbroker.api;

import java.net.URI;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * An RFC 9457 problem, the body of every error the broker answers. {@code detail} is always the
 * broker's own sentence, never an upstream's text, a secret or a token.
 *
 * @param type
 *            what kind of problem, stable for a client to branch on
 * @param title
 *            a short summary of the type
 * @param status
 *            the HTTP status
 * @param detail
 *            this occurrence, in a sentence
 * @param environment
 *            the environment concerned, when the caller may know it
 * @param code
 *            a stable reason code, such as {@code credential_invalid}
 * @param retryAfter
 *            seconds to wait before trying again, as in the {@code Retry-After} header
 * @param field
 *            the request field at fault, when one is (e.g. {@code client_id}, {@code If-Match})
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Problem(URI type, String title, int status, String detail, String environment, String code,
        Long retryAfter, String field) {

    public static final String MEDIA_TYPE = "application/problem+json";

    /** A problem that no single request field is at fault for. */
    public Problem(URI type, String title, int status, String detail, String environment, String code,
            Long retryAfter) {
        this(type, title, status, detail, environment, code, retryAfter, null);
    }

    static URI type(String slug) {
        return URI.create("urn:credential-broker:problem:" + slug);
    }
}
