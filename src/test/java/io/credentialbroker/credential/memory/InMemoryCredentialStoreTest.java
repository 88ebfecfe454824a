package io.credentialbroker.credential.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Clock;

import org.junit.jupiter.api.Test;

import io.credentialbroker.credential.ClientSecret;
import io.credentialbroker.credential.CredentialMetadata.VersionMetadata;
import io.credentialbroker.credential.CredentialStoreException;
import io.credentialbroker.credential.CredentialVersionConflictException;
import io.credentialbroker.credential.PartnerCredential;
import io.credentialbroker.environment.Cloud;
import io.credentialbroker.environment.Environment;
import io.credentialbroker.testing.Fixtures;

/**
 * The dev-mode store keeps versions with check-and-set as Vault does, so rotations work in dev
 * mode.
 */
class InMemoryCredentialStoreTest {

    private static final Environment SANDBOX = new Environment("sandbox", Fixtures.SANDBOX.tenant(), Cloud.PUBLIC,
            "partner-center/sandbox",
            Environment.defaultTokenEndpoint(Cloud.PUBLIC), Cloud.PUBLIC.resource());

    private final InMemoryCredentialStore store = new InMemoryCredentialStore(Clock.systemUTC());

    @Test
    void startsEveryEnvironmentWithAnObviouslyFakeVersionOne() {
        PartnerCredential first = store.read(SANDBOX);

        assertThat(first.version()).isEqualTo(1);
        assertThat(first.clientSecret().reveal()).isEqualTo("fake-sandbox-secret");
        assertThat(store.metadata(SANDBOX).currentVersion()).isEqualTo(1);
    }

    @Test
    void writesNewVersionsWithCheckAndSetAndKeepsTheOldOnes() {
        PartnerCredential first = store.read(SANDBOX);
        PartnerCredential candidate = PartnerCredential.candidate(first.clientId(),
                new ClientSecret("fake-sandbox-secret-2"), first.domain());

        PartnerCredential stored = store.write(SANDBOX, candidate, 1);

        assertThat(stored.version()).isEqualTo(2);
        assertThat(store.read(SANDBOX).clientSecret().reveal()).isEqualTo("fake-sandbox-secret-2");
        assertThat(store.read(SANDBOX, 1).clientSecret().reveal()).isEqualTo("fake-sandbox-secret");
        assertThat(store.metadata(SANDBOX).versions()).extracting(VersionMetadata::version).containsExactly(2, 1);
    }

    @Test
    void refusesAStaleCheckAndSet() {
        PartnerCredential first = store.read(SANDBOX);
        store.write(SANDBOX, first.asCandidate(), 1);

        assertThat(catchThrowableOfType(CredentialVersionConflictException.class,
                () -> store.write(SANDBOX, first.asCandidate(), 1))).isNotNull();
        assertThat(store.metadata(SANDBOX).currentVersion()).isEqualTo(2);
    }

    @Test
    void reportsAMissingVersionAsNotFound() {
        CredentialStoreException failure = catchThrowableOfType(CredentialStoreException.class,
                () -> store.read(SANDBOX, 5));

        assertThat(failure.reason()).isEqualTo(CredentialStoreException.Reason.NOT_FOUND);
    }
}
