package io.credentialbroker.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import org.jose4j.jwk.JsonWebKey;
import org.jose4j.jwk.JsonWebKeySet;
import org.jose4j.jwk.RsaJsonWebKey;
import org.jose4j.jwk.RsaJwkGenerator;
import org.jose4j.jws.AlgorithmIdentifiers;
import org.jose4j.jws.JsonWebSignature;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.jwt.NumericDate;
import org.jose4j.lang.JoseException;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * A signing issuer for callers' tokens, as a Kubernetes cluster is for projected service-account
 * tokens: it holds an RSA key made at test time, publishes it as a JWKS on loopback, and signs
 * tokens with the broker's audience. It can also make every kind of bad token, and stop serving its
 * keys.
 */
public final class CallerIssuer {

    public static final String ISSUER = "https://kubernetes.default.svc.cluster.local";
    public static final String AUDIENCE = "credential-broker";
    public static final String JWKS_PATH = "/openid/v1/jwks";

    /** Granted token and credentials everywhere in the tests' configuration. */
    public static final String OPERATOR = "system:serviceaccount:tests:operator";
    /** Granted token in sandbox only. */
    public static final String BILLING = "system:serviceaccount:billing:api";
    /** Granted token in sandbox and primary. */
    public static final String ORDERS = "system:serviceaccount:orders:worker";
    /** Granted credentials, but not token, in sandbox and primary. */
    public static final String OPS_TOOL = "system:serviceaccount:ops:rotator";

    private final RsaJsonWebKey key = generate();
    private final RsaJsonWebKey strangerKey = generate();
    private final HttpServer server;
    private final AtomicBoolean keysAvailable = new AtomicBoolean(true);
    private final AtomicInteger keyRequests = new AtomicInteger();

    private CallerIssuer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext(JWKS_PATH, this::serveKeys);
        server.start();
    }

    public static CallerIssuer start() {
        try {
            return new CallerIssuer();
        } catch (IOException e) {
            throw new IllegalStateException("could not bind the caller issuer to loopback", e);
        }
    }

    public void stop() {
        server.stop(0);
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /**
     * Whether the JWKS endpoint answers (else 503), as when the cluster's API server is unreachable.
     */
    public void keysAvailable(boolean available) {
        keysAvailable.set(available);
    }

    public int keyRequests() {
        return keyRequests.get();
    }

    /** A valid token for the caller: right key, issuer and audience, ten minutes to live. */
    public String token(String subject) {
        return token(subject, claims -> {
        });
    }

    /** A token for the caller with changes to its claims, signed with the issuer's key. */
    public String token(String subject, Consumer<JwtClaims> changes) {
        return sign(claims(subject, changes), key, AlgorithmIdentifiers.RSA_USING_SHA256);
    }

    /** A well-formed token signed by a key the issuer does not publish. */
    public String tokenSignedByStranger(String subject) {
        return sign(claims(subject, claims -> {
        }), strangerKey, AlgorithmIdentifiers.RSA_USING_SHA256);
    }

    /** A token with {@code alg: none} and no signature. */
    public String unsignedToken(String subject) {
        JsonWebSignature jws = new JsonWebSignature();
        jws.setPayload(claims(subject, claims -> {
        }).toJson());
        jws.setAlgorithmHeaderValue(AlgorithmIdentifiers.NONE);
        jws.setAlgorithmConstraints(org.jose4j.jwa.AlgorithmConstraints.NO_CONSTRAINTS);
        try {
            return jws.getCompactSerialization();
        } catch (JoseException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A validly signed token for one caller whose payload was swapped for another caller's. */
    public String tamperedToken(String signedFor, String claimedCaller) {
        String[] parts = token(signedFor).split("\\.");
        String[] other = token(claimedCaller).split("\\.");
        return parts[0] + "." + other[1] + "." + parts[2];
    }

    private static JwtClaims claims(String subject, Consumer<JwtClaims> changes) {
        JwtClaims claims = new JwtClaims();
        claims.setIssuer(ISSUER);
        claims.setAudience(List.of(AUDIENCE));
        claims.setSubject(subject);
        Instant now = Instant.now();
        claims.setIssuedAt(NumericDate.fromSeconds(now.getEpochSecond()));
        claims.setNotBefore(NumericDate.fromSeconds(now.getEpochSecond()));
        claims.setExpirationTime(NumericDate.fromSeconds(now.plus(Duration.ofMinutes(10)).getEpochSecond()));
        claims.setJwtId(UUID.randomUUID().toString());
        changes.accept(claims);
        return claims;
    }

    private static String sign(JwtClaims claims, RsaJsonWebKey key, String algorithm) {
        JsonWebSignature jws = new JsonWebSignature();
        jws.setPayload(claims.toJson());
        jws.setKey(key.getPrivateKey());
        jws.setKeyIdHeaderValue(key.getKeyId());
        jws.setAlgorithmHeaderValue(algorithm);
        try {
            return jws.getCompactSerialization();
        } catch (JoseException e) {
            throw new IllegalStateException(e);
        }
    }

    private void serveKeys(HttpExchange exchange) throws IOException {
        keyRequests.incrementAndGet();
        byte[] body;
        int status;
        if (keysAvailable.get()) {
            body = new JsonWebKeySet(key).toJson(JsonWebKey.OutputControlLevel.PUBLIC_ONLY)
                    .getBytes(StandardCharsets.UTF_8);
            status = 200;
        } else {
            body = "{\"kind\":\"Status\",\"status\":\"Failure\",\"code\":503}".getBytes(StandardCharsets.UTF_8);
            status = 503;
        }
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    private static RsaJsonWebKey generate() {
        try {
            RsaJsonWebKey generated = RsaJwkGenerator.generateJwk(2048);
            generated.setKeyId(UUID.randomUUID().toString());
            generated.setUse("sig");
            generated.setAlgorithm(AlgorithmIdentifiers.RSA_USING_SHA256);
            return generated;
        } catch (JoseException e) {
            throw new IllegalStateException(e);
        }
    }
}
