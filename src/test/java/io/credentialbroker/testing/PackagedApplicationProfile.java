package io.credentialbroker.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.HashMap;
import java.util.Map;

import io.quarkus.test.junit.QuarkusTestProfile;

/**
 * Settings for {@code @QuarkusIntegrationTest}s, which run the packaged application in its
 * {@code prod} profile: the {@code %test} settings of application.properties do not reach it, and
 * the test clock is not in the package. The test resources add the stand-ins' URLs.
 */
public class PackagedApplicationProfile implements QuarkusTestProfile {

    /**
     * The packaged application's management interface (probes, metrics): a port free when the tests
     * start, since the packaged application does not report the port it got for 0, and 9000 may be
     * taken by another build on the machine. {@link ManagementInterface} aims there.
     */
    private static final int MANAGEMENT_PORT = freePort();

    static {
        System.setProperty(ManagementInterface.PACKAGED_PORT_PROPERTY, Integer.toString(MANAGEMENT_PORT));
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public Map<String, String> getConfigOverrides() {
        Map<String, String> overrides = new HashMap<>(Map.of(
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
                "broker.grants.billing.permissions", "token"));
        overrides.put("quarkus.management.port", Integer.toString(MANAGEMENT_PORT));
        // the production shutdown delay (readiness drain) would only slow every test's stop
        overrides.put("quarkus.shutdown.delay", "0S");
        return overrides;
    }
}
