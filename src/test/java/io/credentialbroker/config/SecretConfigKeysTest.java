package io.credentialbroker.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import io.quarkus.vault.runtime.config.VaultRuntimeConfig;
import io.smallrye.config.ConfigMappings;
import io.smallrye.config.ConfigMappings.ConfigClass;

/**
 * The configuration keys that can hold a secret are the ones {@link SecretConfigKeys} masks: read
 * from the configuration mappings themselves, so that a key added by a quarkus-vault upgrade, or to
 * {@link BrokerConfig}, has to be classified here.
 */
class SecretConfigKeysTest {

    /** quarkus-vault's authentication keys that name or locate, and hold no secret. */
    private static final Set<String> NOT_SECRET = Set.of("quarkus.vault.authentication.app-role.role-id",
            "quarkus.vault.authentication.app-role.auth-mount-path",
            "quarkus.vault.authentication.userpass.username",
            "quarkus.vault.authentication.userpass.auth-mount-path",
            "quarkus.vault.authentication.kubernetes.role",
            "quarkus.vault.authentication.kubernetes.jwt-token-path",
            "quarkus.vault.authentication.kubernetes.auth-mount-path");

    /**
     * A key named like a secret: a secret, password, private key, or a token (not a token's settings).
     */
    private static final Pattern SECRET_NAME = Pattern.compile("(?i)(secret|password|private-key|(^|[.-])token$)");

    @Test
    @DisplayName("case 35: every key of quarkus-vault's authentication is either masked as a secret or known to hold none")
    void masksEverySecretOfVaultAuthentication() {
        Set<String> authentication = ConfigMappings
                .getProperties(ConfigClass.configClass(VaultRuntimeConfig.class, "quarkus.vault")).keySet().stream()
                .filter(name -> name.startsWith("quarkus.vault.authentication.")).collect(Collectors.toSet());

        assertThat(authentication).containsAll(SecretConfigKeys.KEYS).containsAll(NOT_SECRET)
                .hasSize(SecretConfigKeys.KEYS.size() + NOT_SECRET.size());
        assertThat(NOT_SECRET).noneMatch(name -> SECRET_NAME.matcher(name).find());
    }

    @Test
    @DisplayName("case 35: the broker's own keys hold no secret: none is named like one")
    void theBrokersOwnKeysHoldNoSecret() {
        Set<String> keys = ConfigMappings.getProperties(ConfigClass.configClass(BrokerConfig.class, "broker"))
                .keySet();

        assertThat(keys).as("the mapping is read").contains("broker.vault.kv-mount",
                "broker.environments.*.token-endpoint");
        assertThat(keys).noneMatch(name -> SECRET_NAME.matcher(name).find());
        assertThat(SecretConfigKeys.KEYS).allMatch(name -> SECRET_NAME.matcher(name).find());
    }
}
