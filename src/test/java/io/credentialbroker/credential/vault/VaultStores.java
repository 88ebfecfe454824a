package io.credentialbroker.credential.vault;

import java.net.http.HttpClient;
import java.time.Duration;

import io.credentialbroker.testing.VaultStandIn;
import io.quarkus.vault.client.VaultClient;
import io.quarkus.vault.client.http.jdk.JDKVaultHttpClient;

/**
 * The production Vault adapter for tests outside this package that play a second replica: its own
 * Vault client, against the same stand-in as the broker under test.
 */
public final class VaultStores {

    private VaultStores() {
    }

    /** A store reading and writing {@code vault}'s default mount with its root token. */
    public static VaultCredentialStore against(VaultStandIn vault, Duration timeout) {
        return new VaultCredentialStore(VaultClient.builder()
                .baseUrl(vault.url())
                .executor(new JDKVaultHttpClient(HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()))
                .clientToken(vault.rootToken())
                .requestTimeout(Duration.ofSeconds(5))
                .build(), VaultStandIn.DEFAULT_MOUNT, timeout);
    }
}
