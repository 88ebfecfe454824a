package io.credentialbroker.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.credentialbroker.audit.AuditEvent;
import io.credentialbroker.audit.AuditHandler;
import io.credentialbroker.audit.AuditLog;
import io.credentialbroker.config.BrokerConfig;
import io.credentialbroker.config.ClockProducer;
import io.credentialbroker.config.InvalidConfigurationException;
import io.credentialbroker.environment.Cloud;
import io.credentialbroker.environment.Environment;
import io.credentialbroker.environment.EnvironmentRegistry;
import io.quarkus.test.QuarkusUnitTest;

/** Outside the dev profile the broker refuses to start with authentication off. */
class AuthDisabledStartupTest {

    @RegisterExtension
    static final QuarkusUnitTest APP = new QuarkusUnitTest()
            .withApplicationRoot(jar -> jar.addClasses(BrokerConfig.class, EnvironmentRegistry.class,
                    Environment.class, Cloud.class, InvalidConfigurationException.class, Grants.class,
                    Permission.class, Caller.class, AccessPolicy.class, ThrottledAudit.class, RateLimiter.class,
                    AuditLog.class, AuditHandler.class, AuditEvent.class, ClockProducer.class))
            .overrideConfigKey("quarkus.devservices.enabled", "false")
            .overrideConfigKey("quarkus.oidc.tenant-enabled", "false")
            .overrideConfigKey("broker.environments.sandbox.cloud", "public")
            .overrideConfigKey("broker.environments.sandbox.tenant-id", "0000aaaa-0000-4000-8000-000000000001")
            .overrideConfigKey("broker.auth.enabled", "false")
            .overrideConfigKey("broker.grants.billing.callers", "system:serviceaccount:billing:api")
            .overrideConfigKey("broker.grants.billing.environments", "sandbox")
            .overrideConfigKey("broker.grants.billing.permissions", "token")
            .assertException(thrown -> {
                Throwable cause = thrown;
                while (cause != null
                        && !cause.getClass().getName().equals(InvalidConfigurationException.class.getName())) {
                    cause = cause.getCause();
                }
                assertThat(cause).as("%s", thrown).isNotNull();
                assertThat(cause.getMessage()).contains(
                        "broker.auth.enabled: authentication can be turned off in the dev profile only; this is the test profile");
            });

    @Test
    void doesNotStart() {
        fail("the application must not have started");
    }
}
