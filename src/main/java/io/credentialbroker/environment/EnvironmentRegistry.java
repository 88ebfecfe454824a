package io.credentialbroker.environment;

import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;

import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import io.credentialbroker.config.BrokerConfig;
import io.credentialbroker.config.BrokerConfig.EnvironmentConfig;
import io.credentialbroker.config.InvalidConfigurationException;
import io.quarkus.runtime.Startup;

/**
 * The environments the broker serves, built once from configuration. Startup stops on the first
 * look at a bad configuration, with one line per problem, so an operator fixes them all at once.
 */
@Startup
@Singleton
public class EnvironmentRegistry {

    /** Lowercase, as Kubernetes names: safe in URLs, metric labels, Vault paths and env var names. */
    static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    private static final Pattern IPV4_LITERAL = Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
    private static final Pattern VAULT_PATH = Pattern.compile("[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*");

    private final Map<String, Environment> environments;

    @Inject
    EnvironmentRegistry(BrokerConfig config) {
        this(config.environments());
    }

    EnvironmentRegistry(Map<String, ? extends EnvironmentConfig> configured) {
        this.environments = Collections.unmodifiableMap(build(configured));
    }

    public Optional<Environment> find(String name) {
        return Optional.ofNullable(environments.get(name));
    }

    /** All environments, ordered by name. */
    public Collection<Environment> all() {
        return environments.values();
    }

    /** Whether a caller-supplied name could be an environment name at all, and so is safe to echo. */
    public static boolean isWellFormedName(String name) {
        return name != null && NAME.matcher(name).matches();
    }

    private static Map<String, Environment> build(Map<String, ? extends EnvironmentConfig> configured) {
        List<String> problems = new ArrayList<>();
        if (configured.isEmpty()) {
            problems.add("broker.environments: no environment is configured; set at least"
                    + " broker.environments.<name>.cloud (e.g. BROKER_ENVIRONMENTS_SANDBOX_CLOUD=public)");
        }
        Map<String, Environment> built = new TreeMap<>();
        Map<String, String> ownerOfVaultPath = new HashMap<>();
        new TreeMap<>(configured).forEach((name, config) -> {
            String key = "broker.environments." + name;
            int before = problems.size();
            if (!isWellFormedName(name)) {
                problems.add(key + ": the name must be 1-63 lowercase letters, digits or inner hyphens");
            }
            Optional<TenantId> tenantId = config.tenantId().flatMap(TenantId::parse);
            if (config.tenantId().isEmpty()) {
                problems.add(key + ".tenant-id: missing; set the Entra tenant ID (a GUID) of the environment's"
                        + " Partner Center account: every token minted for it must come from that tenant");
            } else if (tenantId.isEmpty()) {
                // not echoed: a value pasted into the wrong key could be a secret
                problems.add(key + ".tenant-id: not a GUID; give the Entra tenant ID, in the form"
                        + " 8c3dad1d-b6bc-4f8b-939b-8263372eced6 (Azure portal: Microsoft Entra ID, Overview)");
            }
            Optional<Cloud> cloud = Cloud.fromConfigName(config.cloud().trim().toLowerCase(Locale.ROOT));
            if (cloud.isEmpty()) {
                problems.add(key + ".cloud: unknown cloud '" + config.cloud() + "' (expected public, usgov or china)");
            }
            String vaultPath = config.vaultPath().map(String::trim).orElse("partner-center/" + name);
            if (config.vaultPath().isEmpty() && !isWellFormedName(name)) {
                // reported above; the derived path would only repeat it
            } else if (!VAULT_PATH.matcher(vaultPath).matches() || vaultPath.contains("..")) {
                problems.add(key + ".vault-path: '" + vaultPath
                        + "' is not a relative KV path (letters, digits, '_', '-', '.', separated by '/')");
            } else {
                String other = ownerOfVaultPath.putIfAbsent(vaultPath, name);
                if (other != null) {
                    problems.add(key + ".vault-path: '" + vaultPath + "' is also environment '" + other
                            + "''s; environments never share a credential");
                }
            }
            String template = config.tokenEndpoint().map(String::trim)
                    .orElseGet(() -> cloud.map(Environment::defaultTokenEndpoint).orElse(null));
            if (config.tokenEndpoint().isPresent()) {
                checkTokenEndpoint(key + ".token-endpoint", template).ifPresent(problems::add);
            }
            String resource = config.resource().map(String::trim)
                    .orElseGet(() -> cloud.map(Cloud::resource).orElse(null));
            if (config.resource().isPresent()) {
                checkResource(key + ".resource", resource).ifPresent(problems::add);
            }
            if (problems.size() == before) {
                built.put(name, new Environment(name, tenantId.orElseThrow(), cloud.orElseThrow(), vaultPath, template,
                        resource, config.appUser().requireMfa()));
            }
        });
        if (!problems.isEmpty()) {
            throw new InvalidConfigurationException(problems);
        }
        return built;
    }

    private static Optional<String> checkTokenEndpoint(String key, String template) {
        URI uri;
        try {
            uri = new URI(template.replace(Environment.DOMAIN_PLACEHOLDER, "tenant"));
        } catch (URISyntaxException e) {
            return Optional.of(key + ": not a URL");
        }
        if (!uri.isAbsolute() || uri.getHost() == null) {
            return Optional.of(key + ": must be an absolute URL");
        }
        if (uri.getRawUserInfo() != null || uri.getRawFragment() != null) {
            return Optional.of(key + ": must not carry user info or a fragment");
        }
        // The client secret travels in this request's body: plain HTTP only where it cannot leave the host.
        boolean https = "https".equalsIgnoreCase(uri.getScheme());
        boolean loopbackHttp = "http".equalsIgnoreCase(uri.getScheme()) && isLoopback(uri.getHost());
        if (!https && !loopbackHttp) {
            return Optional.of(key + ": must use https (plain http is accepted for loopback addresses only)");
        }
        return Optional.empty();
    }

    private static Optional<String> checkResource(String key, String resource) {
        try {
            URI uri = new URI(resource);
            if (uri.isAbsolute() && uri.getHost() != null && uri.getRawQuery() == null) {
                return Optional.empty();
            }
        } catch (URISyntaxException e) {
            // reported below
        }
        return Optional.of(key + ": must be an absolute URI such as https://api.partnercenter.microsoft.com");
    }

    /**
     * Loopback by its parsed address, never by a name's prefix ({@code 127.evil.example} is a DNS
     * name): {@code localhost}, an IPv4 literal in 127.0.0.0/8, or the IPv6 literal {@code [::1]}. No
     * name is resolved.
     */
    static boolean isLoopback(String host) {
        if (host.equalsIgnoreCase("localhost")) {
            return true;
        }
        if (IPV4_LITERAL.matcher(host).matches()) {
            String[] octets = host.split("\\.");
            for (String octet : octets) {
                if (Integer.parseInt(octet) > 255) {
                    return false;
                }
            }
            return octets[0].equals("127");
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            try {
                // a bracketed literal is parsed, never looked up
                return InetAddress.getByName(host).isLoopbackAddress();
            } catch (UnknownHostException e) {
                return false;
            }
        }
        return false;
    }
}
