package io.credentialbroker.credential.vault;

import static io.credentialbroker.credential.CredentialStoreException.Reason.UNAVAILABLE;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.credentialbroker.config.BrokerConfig;
import io.credentialbroker.credential.CredentialStore;
import io.credentialbroker.credential.CredentialStoreException;
import io.credentialbroker.credential.PartnerCredential;
import io.credentialbroker.environment.Environment;
import io.quarkus.arc.DefaultBean;
import io.quarkus.vault.client.VaultClient;
import io.quarkus.vault.client.api.secrets.kv2.VaultSecretsKV2ReadSecretData;

/**
 * The production {@link CredentialStore}: reads each environment's credential from Vault KV v2 with
 * quarkus-vault's low-level client, and turns every way that can fail into a
 * {@link CredentialStoreException} that carries neither a secret nor Vault's raw answer. Calls
 * block, so never make them on an event-loop thread.
 */
@ApplicationScoped
@DefaultBean
public class VaultCredentialStore implements CredentialStore {

    private final VaultClient vault;
    private final String mount;
    private final Duration timeout;

    @Inject
    VaultCredentialStore(VaultClient vault, BrokerConfig config) {
        this(vault, config.vault().kvMount(), config.vault().timeout());
    }

    /**
     * @param mount
     *            the KV v2 mount ({@code broker.vault.kv-mount})
     * @param timeout
     *            the most one read may take, login and the client's own retries included
     *            ({@code broker.vault.timeout})
     */
    VaultCredentialStore(VaultClient vault, String mount, Duration timeout) {
        this.vault = Objects.requireNonNull(vault, "vault");
        this.mount = Objects.requireNonNull(mount, "mount");
        this.timeout = Objects.requireNonNull(timeout, "timeout");
    }

    @Override
    public PartnerCredential read(Environment environment) {
        VaultRead read = new VaultRead(environment, mount);
        CompletableFuture<VaultSecretsKV2ReadSecretData> pending;
        try {
            pending = vault.secrets().kv2(mount).readSecret(environment.vaultPath()).toCompletableFuture();
        } catch (RuntimeException e) {
            // A token provider may fail before any request is sent.
            throw read.failed(e);
        }
        VaultSecretsKV2ReadSecretData answer;
        try {
            answer = pending.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            // quarkus.vault.read-timeout bounds each HTTP request; this bounds the whole read.
            pending.cancel(true);
            throw new CredentialStoreException(UNAVAILABLE, environment.name(),
                    "Vault did not answer the read of " + read.location() + " for environment '" + environment.name()
                            + "' within " + timeout);
        } catch (ExecutionException e) {
            throw read.failed(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            pending.cancel(true);
            throw new CredentialStoreException(UNAVAILABLE, environment.name(),
                    "interrupted while reading " + read.location() + " for environment '" + environment.name() + "'");
        }
        return read.credentialFrom(answer);
    }

    @Override
    public String toString() {
        return "VaultCredentialStore[mount=" + mount + ", timeout=" + timeout + "]";
    }
}
