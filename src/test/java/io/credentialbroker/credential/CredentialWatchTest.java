package io.credentialbroker.credential;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import io.credentialbroker.audit.AuditEvent;
import io.credentialbroker.audit.AuditLog;
import io.credentialbroker.credential.memory.InMemoryCredentialStore;
import io.credentialbroker.environment.Cloud;
import io.credentialbroker.environment.Environment;
import io.credentialbroker.testing.Fixtures;

/** How a replica notices a version another replica (or an operator) stored. */
class CredentialWatchTest {

    private static final Environment PRIMARY = environment("primary");
    private static final Environment SANDBOX = environment("sandbox");
    private static final Environment UNREAD = environment("unread");

    private final ScheduledExecutorService watching = Executors.newSingleThreadScheduledExecutor();
    private final CountingStore store = new CountingStore();
    private final Map<String, PartnerCredential> active = new ConcurrentHashMap<>();
    private final List<AuditEvent> audit = new CopyOnWriteArrayList<>();
    private final CredentialWatch watch = new CredentialWatch(List.of(PRIMARY, SANDBOX, UNREAD), store,
            new ActiveCredentials() {

                @Override
                public Optional<Integer> activeVersion(String environment) {
                    return Optional.ofNullable(active.get(environment)).map(PartnerCredential::version);
                }

                @Override
                public void activate(String environment, PartnerCredential credential) {
                    active.put(environment, credential);
                }
            }, new AuditLog(Clock.systemUTC()) {

                @Override
                public void record(AuditEvent event) {
                    audit.add(event);
                }
            }, Clock.systemUTC(), Duration.ofSeconds(30), watching);

    @AfterEach
    void stop() {
        watching.shutdownNow();
    }

    @Test
    @DisplayName("unchanged: one metadata read per environment in use, no secret read")
    void readsOnlyMetadataWhileNothingChanged() {
        useCurrent(PRIMARY);
        useCurrent(SANDBOX);
        store.reads = 0;

        watch.checkAll();

        assertThat(store.metadataReads).containsExactlyInAnyOrder("primary", "sandbox");
        assertThat(store.reads).isZero();
        assertThat(audit).isEmpty();
    }

    @Test
    void switchesToAVersionStoredElsewhere() {
        useCurrent(SANDBOX);
        PartnerCredential first = store.read(SANDBOX);
        store.write(SANDBOX, PartnerCredential.candidate(first.clientId(), new ClientSecret("fake-rotated-secret"),
                first.domain()), 1);

        watch.checkAll();

        assertThat(active.get("sandbox").version()).isEqualTo(2);
        assertThat(active.get("sandbox").clientSecret().reveal()).isEqualTo("fake-rotated-secret");
        assertThat(audit).singleElement().satisfies(event -> {
            assertThat(event.action().value()).isEqualTo("credentials.reload");
            assertThat(event.caller()).isEqualTo("broker");
            assertThat(event.fromVersion()).isEqualTo(1);
            assertThat(event.toVersion()).isEqualTo(2);
        });
    }

    @Test
    @DisplayName("one environment's store failure does not stop the others' check")
    void keepsCheckingTheOthersWhenOneFails() {
        useCurrent(PRIMARY);
        useCurrent(SANDBOX);
        PartnerCredential first = store.read(SANDBOX);
        store.write(SANDBOX, first.asCandidate(), 1);
        store.failing = "primary";

        watch.checkAll();

        assertThat(active.get("primary").version()).isEqualTo(1);
        assertThat(active.get("sandbox").version()).isEqualTo(2);
    }

    @Test
    void leavesEnvironmentsAloneWhoseCredentialWasNeverRead() {
        watch.checkAll();

        assertThat(store.metadataReads).isEmpty();
        assertThat(active).isEmpty();
    }

    private void useCurrent(Environment environment) {
        active.put(environment.name(), store.read(environment));
    }

    private static Environment environment(String name) {
        return new Environment(name, Fixtures.SANDBOX.tenant(), Cloud.PUBLIC, "partner-center/" + name,
                Environment.defaultTokenEndpoint(Cloud.PUBLIC),
                Cloud.PUBLIC.resource());
    }

    private static final class CountingStore extends InMemoryCredentialStore {

        final List<String> metadataReads = new CopyOnWriteArrayList<>();
        volatile int reads;
        volatile String failing;

        CountingStore() {
            super(Clock.systemUTC());
        }

        @Override
        public synchronized PartnerCredential read(Environment environment) {
            reads++;
            return super.read(environment);
        }

        @Override
        public synchronized CredentialMetadata metadata(Environment environment) {
            if (environment.name().equals(failing)) {
                throw new CredentialStoreException(CredentialStoreException.Reason.UNAVAILABLE, environment.name(),
                        "sealed");
            }
            metadataReads.add(environment.name());
            return super.metadata(environment);
        }
    }
}
