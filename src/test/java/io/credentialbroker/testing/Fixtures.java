package io.credentialbroker.testing;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import io.credentialbroker.environment.TenantId;

/**
 * The credentials the tests' Vault holds for the {@code sandbox}, {@code primary}, {@code rotating}
 * and {@code lab} environments. Secrets are generated per test run, so a leak check can search for
 * exactly them.
 */
public final class Fixtures {

    public record Account(String environment, String tenantId, String clientId, String clientSecret, String domain) {

        /** The tenant the environment is pinned to, and the {@code tid} of the tokens its app gets. */
        public TenantId tenant() {
            return new TenantId(tenantId);
        }

        public String vaultPath() {
            return "partner-center/" + environment;
        }

        public Map<String, String> vaultData() {
            return Map.of("client_id", clientId, "client_secret", clientSecret, "domain", domain);
        }

        public Account withSecret(String secret) {
            return new Account(environment, tenantId, clientId, secret, domain);
        }
    }

    public static final Account SANDBOX = new Account("sandbox", "0000aaaa-0000-4000-8000-000000000001",
            "11111111-1111-4111-8111-111111111111",
            "fake-sandbox-secret-" + UUID.randomUUID(), "fake-sandbox.onmicrosoft.com");
    public static final Account PRIMARY = new Account("primary", "0000aaaa-0000-4000-8000-000000000002",
            "22222222-2222-4222-8222-222222222222",
            "fake-primary-secret-" + UUID.randomUUID(), "fake-primary.onmicrosoft.com");

    /** Only the test that rotates a key behind the broker's back uses this one. */
    public static final Account ROTATING = new Account("rotating", "0000aaaa-0000-4000-8000-000000000003",
            "33333333-3333-4333-8333-333333333333",
            "fake-rotating-secret-" + UUID.randomUUID(), "fake-rotating.onmicrosoft.com");

    /**
     * Only the credential API tests use this one: they rotate it, so its token cache and Vault path are
     * theirs alone.
     */
    public static final Account LAB = new Account("lab", "0000aaaa-0000-4000-8000-000000000004",
            "44444444-4444-4444-8444-444444444444",
            "fake-lab-secret-" + UUID.randomUUID(), "fake-lab.onmicrosoft.com");

    public static final List<Account> ACCOUNTS = List.of(SANDBOX, PRIMARY, ROTATING, LAB);

    /** A tenant no test environment is pinned to: the account of somebody else. */
    public static final String FOREIGN_TENANT = "0000ffff-0000-4000-8000-0000000000ff";

    private Fixtures() {
    }

    /** Empties the stand-in and stores version 1 of each environment's credential. */
    public static void seed(VaultStandIn vault) {
        vault.reset();
        for (Account account : ACCOUNTS) {
            vault.put(VaultStandIn.DEFAULT_MOUNT, account.vaultPath(), account.vaultData());
        }
    }

    public static String dataPath(Account account) {
        return "/v1/" + VaultStandIn.DEFAULT_MOUNT + "/data/" + account.vaultPath();
    }
}
