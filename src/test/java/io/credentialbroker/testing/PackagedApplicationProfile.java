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
        return Map.of(
                // a warm-up at startup would meet an empty Vault and back off before the test seeds it
                "broker.token.warm-up", "false",
                "broker.token.retry-backoff", "20MS",
                "broker.vault.timeout", "2S",
                // other processes on the machine may hold the default test port
                "quarkus.http.test-port", "0",
                // the %test grants do not reach the prod profile: the same callers, granted here
                "broker.grants.test-operator.callers", CallerIssuer.OPERATOR,
                "broker.grants.test-operator.environments", "*",
                "broker.grants.test-operator.permissions", "token,credentials",
                "broker.grants.billing.callers", CallerIssuer.BILLING,
                "broker.grants.billing.environments", "sandbox",
                "broker.grants.billing.permissions", "token");
    }
}
