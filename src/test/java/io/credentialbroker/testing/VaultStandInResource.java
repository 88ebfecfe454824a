package io.credentialbroker.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * Runs one {@link VaultStandIn} for a Quarkus test and points quarkus-vault at it with a client
 * token generated for the run; seeds nothing unless told. Tests reach the stand-in through a field
 * annotated {@link InjectVaultStandIn}, and should {@link VaultStandIn#reset()} it between tests.
 *
 * <p>
 * Init args shape the Vault a broker starts against: {@code start=sealed},
 * {@code delay-first-reads=PT8S} (every request slow until the test resets the stand-in), or
 * {@code start=seeded} (the {@link Fixtures} credentials stored before the broker starts).
 *
 * <p>
 * With the init arg {@code auth=kubernetes} the broker logs in as a pod would instead: Kubernetes
 * auth with role {@link #KUBERNETES_ROLE} and a service-account token written to a file at start
 * (the path is in {@code quarkus.vault.authentication.kubernetes.jwt-token-path}).
 */
public class VaultStandInResource implements QuarkusTestResourceLifecycleManager {

    public static final String KUBERNETES_ROLE = "credential-broker";

    private VaultStandIn standIn;
    private boolean kubernetesAuth;
    private boolean startSealed;
    private boolean startSeeded;
    private java.time.Duration firstReadsDelay;
    private Path serviceAccountToken;
    private String serviceAccountJwt;

    @Override
    public void init(Map<String, String> initArgs) {
        kubernetesAuth = "kubernetes".equals(initArgs.get("auth"));
        startSealed = "sealed".equals(initArgs.get("start"));
        startSeeded = "seeded".equals(initArgs.get("start"));
        firstReadsDelay = initArgs.containsKey("delay-first-reads")
                ? java.time.Duration.parse(initArgs.get("delay-first-reads"))
                : null;
    }

    @Override
    public Map<String, String> start() {
        standIn = VaultStandIn.start();
        if (startSealed) {
            standIn.seal();
        }
        if (startSeeded) {
            Fixtures.seed(standIn);
        }
        if (firstReadsDelay != null) {
            standIn.delayNext(VaultStandIn.ALWAYS, firstReadsDelay);
        }
        if (!kubernetesAuth) {
            return Map.of(
                    "quarkus.vault.url", standIn.url(),
                    "quarkus.vault.authentication.client-token", standIn.rootToken(),
                    "quarkus.vault.devservices.enabled", "false");
        }
        try {
            serviceAccountToken = Files.createTempFile("projected-service-account-token", "");
            serviceAccountJwt = "fake-projected-service-account-token-" + UUID.randomUUID();
            Files.writeString(serviceAccountToken, serviceAccountJwt);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        standIn.acceptKubernetesLogin(KUBERNETES_ROLE, serviceAccountJwt);
        return Map.of(
                "quarkus.vault.url", standIn.url(),
                "quarkus.vault.authentication.kubernetes.role", KUBERNETES_ROLE,
                "quarkus.vault.authentication.kubernetes.jwt-token-path", serviceAccountToken.toString(),
                "quarkus.vault.tls.use-kubernetes-ca-cert", "false",
                "quarkus.vault.devservices.enabled", "false");
    }

    @Override
    public void inject(TestInjector testInjector) {
        testInjector.injectIntoFields(standIn,
                new TestInjector.AnnotatedAndMatchesType(InjectVaultStandIn.class, VaultStandIn.class));
    }

    @Override
    public void stop() {
        if (serviceAccountToken != null) {
            try {
                Files.deleteIfExists(serviceAccountToken);
            } catch (IOException e) {
                // a temp file; nothing to do
            }
        }
        if (standIn != null) {
            standIn.close();
            standIn = null;
        }
    }
}
