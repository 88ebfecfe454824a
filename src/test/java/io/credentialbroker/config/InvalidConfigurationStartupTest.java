package io.credentialbroker.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.credentialbroker.environment.Cloud;
import io.credentialbroker.environment.Environment;
import io.credentialbroker.environment.EnvironmentRegistry;
import io.quarkus.test.QuarkusUnitTest;

/** A broker with a bad configuration does not start, and says every problem on its own line. */
class InvalidConfigurationStartupTest {

    @RegisterExtension
    static final QuarkusUnitTest APP = new QuarkusUnitTest()
            .withApplicationRoot(jar -> jar.addClasses(BrokerConfig.class, EnvironmentRegistry.class,
                    Environment.class, Cloud.class, InvalidConfigurationException.class))
            .overrideConfigKey("quarkus.devservices.enabled", "false")
            .overrideConfigKey("quarkus.oidc.tenant-enabled", "false")
            .overrideConfigKey("broker.environments.sandbox.cloud", "azure-germany")
            .overrideConfigKey("broker.environments.sandbox.tenant-id", "fake-sandbox.onmicrosoft.com")
            .overrideConfigKey("broker.environments.primary.cloud", "public")
            .overrideConfigKey("broker.environments.primary.tenant-id", "0000aaaa-0000-4000-8000-000000000002")
            .overrideConfigKey("broker.environments.primary.token-endpoint",
                    "http://login.example.com/{domain}/oauth2/v2.0/token")
            .assertException(thrown -> {
                // the application's classes live in another class loader: compare by name
                Throwable cause = thrown;
                while (cause != null
                        && !cause.getClass().getName().equals(InvalidConfigurationException.class.getName())) {
                    cause = cause.getCause();
                }
                assertThat(cause).as("%s", thrown).isNotNull();
                assertThat(cause.getMessage()).isEqualTo(
                        """
                                credential-broker cannot start, its configuration has 3 problems:
                                  - broker.environments.primary.token-endpoint: must use https (plain http is accepted for loopback addresses only)
                                  - broker.environments.sandbox.tenant-id: not a GUID; give the Entra tenant ID, in the form 8c3dad1d-b6bc-4f8b-939b-8263372eced6 (Azure portal: Microsoft Entra ID, Overview)
                                  - broker.environments.sandbox.cloud: unknown cloud 'azure-germany' (expected public, usgov or china)""");
            });

    @Test
    void doesNotStart() {
        fail("the application must not have started");
    }
}
