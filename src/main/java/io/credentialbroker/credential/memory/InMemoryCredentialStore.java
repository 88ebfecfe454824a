package io.credentialbroker.credential.memory;

import static io.credentialbroker.credential.CredentialStoreException.Reason.NOT_FOUND;

import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import io.credentialbroker.credential.ClientSecret;
import io.credentialbroker.credential.CredentialMetadata;
import io.credentialbroker.credential.CredentialMetadata.VersionMetadata;
import io.credentialbroker.credential.CredentialStore;
import io.credentialbroker.credential.CredentialStoreException;
import io.credentialbroker.credential.CredentialVersionConflictException;
import io.credentialbroker.credential.EnvironmentRecords;
import io.credentialbroker.credential.PartnerCredential;
import io.credentialbroker.credential.StoredRecord;
import io.credentialbroker.environment.Environment;
import io.quarkus.arc.profile.IfBuildProfile;

/**
 * The {@code dev} profile's credential store: every environment starts with an obviously fake
 * credential ({@code fake-<env>-secret}) that the dev-mode Azure AD stand-in accepts, and keeps
 * versions with check-and-set like Vault KV v2, so rotations work in dev mode too. The bean does
 * not exist in any other build profile, so production can only ever use Vault.
 */
@ApplicationScoped
@IfBuildProfile("dev")
public class InMemoryCredentialStore implements CredentialStore, EnvironmentRecords {

    private static final Logger LOG = Logger.getLogger(InMemoryCredentialStore.class);

    private final Clock clock;
    /** Each environment's versions, oldest first; version n is at index n - 1. Guarded by this. */
    private final Map<String, List<PartnerCredential>> versions = new HashMap<>();
    /** Each record's versions, oldest first, by its path. Guarded by this. */
    private final Map<String, List<StoredRecord>> records = new HashMap<>();

    @Inject
    public InMemoryCredentialStore(Clock clock) {
        this.clock = clock;
    }

    @Override
    public synchronized PartnerCredential read(Environment environment) {
        List<PartnerCredential> kept = versionsOf(environment);
        return kept.get(kept.size() - 1);
    }

    @Override
    public synchronized PartnerCredential read(Environment environment, int version) {
        List<PartnerCredential> kept = versionsOf(environment);
        if (version < 1 || version > kept.size()) {
            throw new CredentialStoreException(NOT_FOUND, environment.name(),
                    "the in-memory store has no version " + version + " for environment '" + environment.name() + "'");
        }
        return kept.get(version - 1);
    }

    @Override
    public synchronized CredentialMetadata metadata(Environment environment) {
        List<PartnerCredential> kept = versionsOf(environment);
        return new CredentialMetadata(kept.size(), kept.stream()
                .map(credential -> new VersionMetadata(credential.version(), credential.createdTime(), false, false))
                .toList());
    }

    @Override
    public synchronized PartnerCredential write(Environment environment, PartnerCredential candidate,
            int expectedVersion) {
        List<PartnerCredential> kept = versionsOf(environment);
        if (expectedVersion != kept.size()) {
            throw new CredentialVersionConflictException(environment.name(), expectedVersion);
        }
        PartnerCredential stored = new PartnerCredential(candidate.clientId(), candidate.clientSecret(),
                candidate.domain(), kept.size() + 1, clock.instant());
        kept.add(stored);
        return stored;
    }

    @Override
    public synchronized Optional<StoredRecord> readRecord(Environment environment, String name) {
        List<StoredRecord> kept = records.get(recordKey(environment, name));
        return kept == null ? Optional.empty() : Optional.of(kept.get(kept.size() - 1));
    }

    @Override
    public synchronized StoredRecord writeRecord(Environment environment, String name, Map<String, String> fields,
            int expectedVersion) {
        List<StoredRecord> kept = records.computeIfAbsent(recordKey(environment, name), key -> new ArrayList<>());
        if (expectedVersion != kept.size()) {
            throw new CredentialVersionConflictException(environment.name(), "the record " + name, expectedVersion);
        }
        StoredRecord stored = new StoredRecord(kept.size() + 1, clock.instant(), fields);
        kept.add(stored);
        return stored;
    }

    @Override
    public synchronized void deleteRecord(Environment environment, String name) {
        records.remove(recordKey(environment, name));
    }

    private static String recordKey(Environment environment, String name) {
        return environment.vaultPath() + "/" + EnvironmentRecords.requireValidName(name);
    }

    private List<PartnerCredential> versionsOf(Environment environment) {
        return versions.computeIfAbsent(environment.name(), name -> {
            LOG.warnf("DEV MODE: environment '%s' uses a fake in-memory credential, not Vault", name);
            List<PartnerCredential> first = new ArrayList<>();
            first.add(new PartnerCredential(UUID.nameUUIDFromBytes(name.getBytes()).toString(),
                    new ClientSecret("fake-" + name + "-secret"), "fake-" + name + ".onmicrosoft.com", 1,
                    clock.instant()));
            return first;
        });
    }
}
