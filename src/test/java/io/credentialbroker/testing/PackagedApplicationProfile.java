package io.credentialbroker.testing;

import java.util.Map;

import io.quarkus.test.junit.QuarkusTestProfile;

/**
 * Settings for {@code @QuarkusIntegrationTest}s, which run the packaged application in its
 * {@code prod} profile: the {@code %test} settings of application.properties do not reach it, and
 * the test clock is not in the package. The test resources add the stand-ins' URLs.
 */
public class PackagedApplicationProfile implements QuarkusTestProfile {

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.ofEntries(
                // the %test tenant pins do not reach the prod profile either: each test environment's
                Map.entry("broker.environments.sandbox.tenant-id", Fixtures.SANDBOX.tenantId()),
                Map.entry("broker.environments.primary.tenant-id", Fixtures.PRIMARY.tenantId()),
                Map.entry("broker.environments.rotating.tenant-id", Fixtures.ROTATING.tenantId()),
                Map.entry("broker.environments.lab.tenant-id", Fixtures.LAB.tenantId()),
                // a warm-up at startup would meet an empty Vault and back off before the test seeds it
                Map.entry("broker.token.warm-up", "false"),
                Map.entry("broker.token.retry-backoff", "20MS"),
                Map.entry("broker.vault.timeout", "2S"),
                // other processes on the machine may hold the default test port
                Map.entry("quarkus.http.test-port", "0"),
                // the %test grants do not reach the prod profile: the same callers, granted here
                Map.entry("broker.grants.test-operator.callers", CallerIssuer.OPERATOR),
                Map.entry("broker.grants.test-operator.environments", "*"),
                Map.entry("broker.grants.test-operator.permissions", "token,credentials"),
                Map.entry("broker.grants.billing.callers", CallerIssuer.BILLING),
                Map.entry("broker.grants.billing.environments", "sandbox"),
                Map.entry("broker.grants.billing.permissions", "token"));
    }
}
