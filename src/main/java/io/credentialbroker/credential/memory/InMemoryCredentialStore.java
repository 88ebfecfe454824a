package io.credentialbroker.credential.memory;

import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

import io.credentialbroker.credential.ClientSecret;
import io.credentialbroker.credential.CredentialStore;
import io.credentialbroker.credential.PartnerCredential;
import io.credentialbroker.environment.Environment;
import io.quarkus.arc.profile.IfBuildProfile;

/**
 * The {@code dev} profile's credential store: every environment gets an obviously fake credential
 * ({@code fake-<env>-secret}) that the dev-mode Azure AD stand-in accepts. The bean does not exist
 * in any other build profile, so production can only ever read Vault.
 */
@ApplicationScoped
@IfBuildProfile("dev")
public class InMemoryCredentialStore implements CredentialStore {

    private static final Logger LOG = Logger.getLogger(InMemoryCredentialStore.class);

    private final Map<String, PartnerCredential> credentials = new ConcurrentHashMap<>();

    @Override
    public PartnerCredential read(Environment environment) {
        return credentials.computeIfAbsent(environment.name(), name -> {
            LOG.warnf("DEV MODE: environment '%s' uses a fake in-memory credential, not Vault", name);
            return new PartnerCredential(UUID.nameUUIDFromBytes(name.getBytes()).toString(),
                    new ClientSecret("fake-" + name + "-secret"), "fake-" + name + ".onmicrosoft.com", 1,
                    Instant.now());
        });
    }
}
