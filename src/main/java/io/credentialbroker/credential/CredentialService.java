package io.credentialbroker.credential;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import io.credentialbroker.audit.AuditEvent;
import io.credentialbroker.audit.AuditLog;
import io.credentialbroker.credential.CredentialMetadata.VersionMetadata;
import io.credentialbroker.environment.Environment;

/**
 * What operators may read about an environment's credential: the current version and the history,
 * each with a hint of the secret, never the secret. Reads go to the store, not the token cache, so
 * they show what is stored; each is an audit event.
 */
@ApplicationScoped
public class CredentialService {

    private final CredentialStore store;
    private final AuditLog audit;
    private final Clock clock;

    public CredentialService(CredentialStore store, AuditLog audit, Clock clock) {
        this.store = store;
        this.audit = audit;
        this.clock = clock;
    }

    /**
     * The current version.
     *
     * @throws CredentialStoreException
     *             if the store cannot give it
     */
    public CredentialSummary current(String caller, Environment environment) {
        try {
            PartnerCredential credential = store.read(environment);
            audit.record(AuditEvent.credentialsRead(clock.instant(), caller, environment.name(), credential.version()));
            return CredentialSummary.of(credential);
        } catch (CredentialStoreException e) {
            audit.record(
                    AuditEvent.credentialsReadFailed(clock.instant(), caller, environment.name(), e.reason().code()));
            throw e;
        }
    }

    /**
     * The versions that can still be read, newest first, each read for its hint.
     *
     * @throws CredentialStoreException
     *             if the store cannot be read
     */
    public CredentialHistory history(String caller, Environment environment) {
        try {
            CredentialMetadata metadata = store.metadata(environment);
            List<CredentialSummary> versions = new ArrayList<>();
            for (VersionMetadata version : metadata.versions()) {
                if (version.isLive()) {
                    versions.add(summary(environment, version));
                }
            }
            audit.record(
                    AuditEvent.credentialsRead(clock.instant(), caller, environment.name(), metadata.currentVersion()));
            return new CredentialHistory(metadata.currentVersion(), versions);
        } catch (CredentialStoreException e) {
            audit.record(
                    AuditEvent.credentialsReadFailed(clock.instant(), caller, environment.name(), e.reason().code()));
            throw e;
        }
    }

    private CredentialSummary summary(Environment environment, VersionMetadata version) {
        try {
            return CredentialSummary.of(store.read(environment, version.version()));
        } catch (CredentialStoreException e) {
            if (e.reason() == CredentialStoreException.Reason.INVALID_CONTENT
                    || e.reason() == CredentialStoreException.Reason.NOT_FOUND) {
                return CredentialSummary.unusable(version.version(), version.createdTime());
            }
            throw e;
        }
    }

}
