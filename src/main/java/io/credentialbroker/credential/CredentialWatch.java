package io.credentialbroker.credential;

import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import io.credentialbroker.audit.AuditEvent;
import io.credentialbroker.audit.AuditLog;
import io.credentialbroker.config.BrokerConfig;
import io.credentialbroker.config.BrokerExecutors;
import io.credentialbroker.environment.Environment;
import io.credentialbroker.environment.EnvironmentRegistry;
import io.quarkus.runtime.StartupEvent;

/**
 * Makes replicas converge after a rotation: every {@code broker.rotation.watch-interval} it reads
 * each environment's {@code current_version} from the store's metadata (no secret, one small
 * request) and, when it differs from the version in use, reads that version and switches the token
 * cache to it. Environments whose credential was never read are left alone: their first mint reads
 * the store anyway. One environment's store failure never stops the others'.
 */
@ApplicationScoped
public class CredentialWatch {

    private static final Logger LOG = Logger.getLogger(CredentialWatch.class);

    private final Collection<Environment> environments;
    private final CredentialStore store;
    private final ActiveCredentials active;
    private final AuditLog audit;
    private final Clock clock;
    private final long intervalMillis;
    private final ScheduledExecutorService watching;

    @Inject
    CredentialWatch(EnvironmentRegistry environments, CredentialStore store, ActiveCredentials active,
            AuditLog audit, Clock clock, BrokerConfig config, BrokerExecutors executors) {
        this(environments.all(), store, active, audit, clock, config.rotation().watchInterval(),
                executors.credentialWatch());
    }

    CredentialWatch(Collection<Environment> environments, CredentialStore store, ActiveCredentials active,
            AuditLog audit, Clock clock, Duration watchInterval, ScheduledExecutorService watching) {
        this.environments = environments;
        this.store = store;
        this.active = active;
        this.audit = audit;
        this.clock = clock;
        this.intervalMillis = watchInterval.toMillis();
        this.watching = watching;
    }

    void start(@Observes StartupEvent event) {
        watching.scheduleWithFixedDelay(this::checkAll, intervalMillis, intervalMillis, TimeUnit.MILLISECONDS);
    }

    /** One round over every environment. */
    void checkAll() {
        for (Environment environment : environments) {
            try {
                check(environment);
            } catch (CredentialStoreException e) {
                // keep the credential in use; the next round tries again
                LOG.warnf("Could not check environment '%s''s credential version in the store: %s",
                        environment.name(), e.reason().code());
            } catch (RuntimeException e) {
                LOG.errorf("Checking environment '%s''s credential version failed unexpectedly: %s",
                        environment.name(), e.getClass().getName());
            }
        }
    }

    private void check(Environment environment) {
        Optional<Integer> inUse = active.activeVersion(environment.name());
        if (inUse.isEmpty()) {
            return;
        }
        int current = store.metadata(environment).currentVersion();
        if (current == inUse.get()) {
            return;
        }
        // Different, not only newer: a secret deleted and written anew starts again at 1.
        PartnerCredential latest = store.read(environment);
        active.activate(environment.name(), latest);
        LOG.infof("Environment '%s': the store holds credential version %d (in use here: %d); switched to it",
                environment.name(), latest.version(), inUse.get());
        audit.record(
                AuditEvent.credentialsReloaded(clock.instant(), environment.name(), inUse.get(), latest.version()));
    }
}
