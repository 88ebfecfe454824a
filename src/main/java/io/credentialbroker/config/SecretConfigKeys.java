package io.credentialbroker.config;

import java.util.List;

import io.smallrye.config.SmallRyeConfigBuilder;
import io.smallrye.config.SmallRyeConfigBuilderCustomizer;

/**
 * Marks the configuration keys that can hold the broker's own credential, the one it logs in to
 * Vault with, as SmallRye Config secret keys, so that a configuration dump shows their names and
 * never their values: with {@code quarkus.config.log.values} on, SmallRye Config logs every value
 * it looks up at DEBUG, and printed the Vault client token in full. Only configuration mappings
 * (quarkus-vault's) read a secret key; anything else asking for one is refused. Registered in
 * {@code META-INF/services/io.smallrye.config.SmallRyeConfigBuilderCustomizer}.
 */
public class SecretConfigKeys implements SmallRyeConfigBuilderCustomizer {

    /**
     * quarkus-vault's authentication keys that hold a secret: a token, an AppRole secret id, a
     * password, or a wrapping token for one. Its other keys there (role names, user names, paths) are
     * not secret, and tests and operators may read them. SecretConfigKeysTest fails when quarkus-vault
     * gains a key this list has not classified.
     */
    static final List<String> KEYS = List.of("quarkus.vault.authentication.client-token",
            "quarkus.vault.authentication.client-token-wrapping-token",
            "quarkus.vault.authentication.app-role.secret-id",
            "quarkus.vault.authentication.app-role.secret-id-wrapping-token",
            "quarkus.vault.authentication.userpass.password",
            "quarkus.vault.authentication.userpass.password-wrapping-token");

    @Override
    public void configBuilder(SmallRyeConfigBuilder builder) {
        builder.withSecretKeys(KEYS.toArray(String[]::new));
    }
}
