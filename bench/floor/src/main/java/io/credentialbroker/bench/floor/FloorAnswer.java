package io.credentialbroker.bench.floor;

/** A token answer: the environment it is labelled with and the body's bytes (constant). */
public record FloorAnswer(String environment, byte[] body) {
}
