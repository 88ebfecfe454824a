package io.credentialbroker.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a {@link VaultStandIn} field of a {@code @QuarkusTest} for {@link VaultStandInResource} to
 * fill with the running stand-in.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.FIELD)
public @interface InjectVaultStandIn {
}
