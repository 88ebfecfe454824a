package io.credentialbroker.audit;

import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * Registers for reflection, in a native image, what Jackson serializes without Quarkus seeing the
 * type at build time: audit events, which AuditLog writes through the ObjectMapper directly. (The
 * api records are registered by Quarkus REST already, as the generated reflect-config.json of
 * {@code -Dnative -Dquarkus.native.sources-only=true} shows.) On the JVM this has no effect.
 */
@RegisterForReflection(targets = AuditEvent.class)
final class NativeImageReflection {

    private NativeImageReflection() {
    }
}
