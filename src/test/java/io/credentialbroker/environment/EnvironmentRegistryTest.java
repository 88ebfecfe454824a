package io.credentialbroker.environment;

import static org.assertj.core.api.Assertions.as;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.Test;

import io.credentialbroker.config.BrokerConfig;
import io.credentialbroker.config.BrokerConfig.EnvironmentConfig;
import io.credentialbroker.config.InvalidConfigurationException;

class EnvironmentRegistryTest {

    static final String TENANT = "8c3dad1d-b6bc-4f8b-939b-8263372eced6";

    record Settings(Optional<String> tenantId, String cloud, Optional<String> vaultPath,
            Optional<String> tokenEndpoint, Optional<String> resource) implements EnvironmentConfig {

        Settings(String cloud, Optional<String> vaultPath, Optional<String> tokenEndpoint, Optional<String> resource) {
            this(Optional.of(TENANT), cloud, vaultPath, tokenEndpoint, resource);
        }

        static Settings cloud(String cloud) {
            return new Settings(cloud, Optional.empty(), Optional.empty(), Optional.empty());
        }

        static Settings tenant(Optional<String> tenantId) {
            return new Settings(tenantId, "public", Optional.empty(), Optional.empty(), Optional.empty());
        }

        static Settings endpoint(String tokenEndpoint) {
            return new Settings("public", Optional.empty(), Optional.of(tokenEndpoint), Optional.empty());
        }

        @Override
        public BrokerConfig.EnvironmentAppUserConfig appUser() {
            return () -> true;
        }
    }

    @Test
    void derivesAuthorityResourceAndVaultPathFromTheCloudPreset() {
        EnvironmentRegistry registry = new EnvironmentRegistry(
                Map.of("sandbox", Settings.cloud("public"), "gov", Settings.cloud("usgov"), "cn",
                        Settings.cloud("china")));

        Environment sandbox = registry.find("sandbox").orElseThrow();
        assertThat(sandbox.tokenEndpoint("contoso.onmicrosoft.com"))
                .hasToString("https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
        assertThat(sandbox.resource()).isEqualTo("https://api.partnercenter.microsoft.com");
        assertThat(sandbox.vaultPath()).isEqualTo("partner-center/sandbox");
        assertThat(sandbox.usesV1Endpoint()).isFalse();
        assertThat(sandbox.authorizeEndpoint("contoso.onmicrosoft.com")).hasValueSatisfying(authorize -> assertThat(
                authorize)
                .hasToString("https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize"));
        assertThat(sandbox.appUserRequiresMfa()).isTrue();

        assertThat(registry.find("gov").orElseThrow().tokenEndpoint("t").getHost())
                .isEqualTo("login.microsoftonline.us");
        Environment china = registry.find("cn").orElseThrow();
        assertThat(china.tokenEndpoint("t").getHost()).isEqualTo("login.partner.microsoftonline.cn");
        assertThat(china.resource()).isEqualTo("https://partner.partnercenterapi.microsoftonline.cn");
        assertThat(registry.all()).extracting(Environment::name).containsExactly("cn", "gov", "sandbox");
    }

    @Test
    void takesATokenEndpointTemplateForV1EndpointsAndProxies() {
        EnvironmentRegistry registry = new EnvironmentRegistry(Map.of("legacy",
                new Settings("public", Optional.of("pc/legacy"),
                        Optional.of("https://login.microsoftonline.com/{domain}/oauth2/token"),
                        Optional.of("https://api.partnercenter.microsoft.com"))));

        Environment legacy = registry.find("legacy").orElseThrow();
        assertThat(legacy.usesV1Endpoint()).isTrue();
        assertThat(legacy.vaultPath()).isEqualTo("pc/legacy");
    }

    @Test
    void encodesTheDomainSoAVaultValueCannotChangeThePath() {
        Environment sandbox = new EnvironmentRegistry(Map.of("sandbox", Settings.cloud("public"))).find("sandbox")
                .orElseThrow();

        assertThat(sandbox.tokenEndpoint("evil.com/x?y=#").getRawPath())
                .isEqualTo("/evil.com%2Fx%3Fy%3D%23/oauth2/v2.0/token");
    }

    @Test
    void reportsEveryProblemOnItsOwnLine() {
        Map<String, EnvironmentConfig> configured = new LinkedHashMap<>();
        configured.put("sandbox", Settings.cloud("azure-germany"));
        configured.put("Primary!", Settings.cloud("public"));
        configured.put("proxy", new Settings("public", Optional.of("../etc"),
                Optional.of("http://proxy.internal/{domain}/oauth2/v2.0/token"), Optional.of("not a uri")));
        configured.put("twin-a", new Settings("public", Optional.of("shared"), Optional.empty(), Optional.empty()));
        configured.put("twin-b", new Settings("public", Optional.of("shared"), Optional.empty(), Optional.empty()));

        assertThatThrownBy(() -> new EnvironmentRegistry(configured))
                .isInstanceOfSatisfying(InvalidConfigurationException.class, e -> {
                    assertThat(e.problems()).containsExactlyInAnyOrder(
                            "broker.environments.sandbox.cloud: unknown cloud 'azure-germany' (expected public, usgov or china)",
                            "broker.environments.Primary!: the name must be 1-63 lowercase letters, digits or inner hyphens",
                            "broker.environments.proxy.vault-path: '../etc' is not a relative KV path (letters, digits, '_', '-', '.', separated by '/')",
                            "broker.environments.proxy.token-endpoint: must use https (plain http is accepted for loopback addresses only)",
                            "broker.environments.proxy.resource: must be an absolute URI such as https://api.partnercenter.microsoft.com",
                            "broker.environments.twin-b.vault-path: 'shared' is also environment 'twin-a''s; environments never share a credential");
                    assertThat(e.getMessage())
                            .startsWith("credential-broker cannot start, its configuration has 6 problems:")
                            .contains("\n  - broker.environments.sandbox.cloud: unknown cloud");
                });
    }

    @Test
    void refusesToStartWithNoEnvironment() {
        assertThatThrownBy(() -> new EnvironmentRegistry(Map.of()))
                .isInstanceOf(InvalidConfigurationException.class)
                .hasMessageContaining("broker.environments: no environment is configured");
    }

    @Test
    void acceptsPlainHttpOnlyOnLoopback() {
        EnvironmentRegistry registry = new EnvironmentRegistry(Map.of("local", new Settings("public",
                Optional.empty(), Optional.of("http://127.0.0.1:8089/{domain}/oauth2/v2.0/token"), Optional.empty())));

        assertThat(registry.find("local")).isPresent();
    }

    @Test
    void pinsEachEnvironmentToItsTenantInCanonicalForm() {
        EnvironmentRegistry registry = new EnvironmentRegistry(
                Map.of("sandbox", Settings.tenant(Optional.of(" 8C3DAD1D-B6BC-4F8B-939B-8263372ECED6 "))));

        assertThat(registry.find("sandbox").orElseThrow().tenantId()).isEqualTo(new TenantId(TENANT));
    }

    @Test
    void refusesToStartWithoutAWellFormedTenantPin() {
        Map<String, EnvironmentConfig> configured = new LinkedHashMap<>();
        configured.put("sandbox", Settings.tenant(Optional.empty()));
        configured.put("primary", Settings.tenant(Optional.of("contoso.onmicrosoft.com")));
        configured.put("lab", Settings.tenant(Optional.of("8c3dad1d-b6bc-4f8b-939b-8263372eced")));

        assertThatThrownBy(() -> new EnvironmentRegistry(configured))
                .isInstanceOfSatisfying(InvalidConfigurationException.class, e -> {
                    assertThat(e.problems()).hasSize(3);
                    assertThat(e.problems())
                            .filteredOn(line -> line.startsWith("broker.environments.sandbox.tenant-id: missing"))
                            .hasSize(1);
                    assertThat(e.problems())
                            .filteredOn(line -> line.startsWith("broker.environments.primary.tenant-id: not a GUID"))
                            .hasSize(1);
                    assertThat(e.problems())
                            .filteredOn(line -> line.startsWith("broker.environments.lab.tenant-id: not a GUID"))
                            .hasSize(1);
                    // a value pasted into the wrong key is never echoed: it could be a secret
                    assertThat(e.getMessage()).doesNotContain("contoso.onmicrosoft.com");
                });
    }

    @Test
    void decidesLoopbackOnTheParsedAddressNotOnAPrefix() {
        for (String loopback : new String[]{"http://127.0.0.1:8089/{domain}/oauth2/v2.0/token",
                "http://127.1.2.3/{domain}/oauth2/v2.0/token", "http://localhost:1/{domain}/oauth2/v2.0/token",
                "http://[::1]:8089/{domain}/oauth2/v2.0/token"}) {
            assertThat(new EnvironmentRegistry(Map.of("local", Settings.endpoint(loopback))).find("local"))
                    .as(loopback).isPresent();
        }
        for (String remote : new String[]{"http://127.evil.example/{domain}/oauth2/v2.0/token",
                "http://127.0.0.1.evil.example/{domain}/oauth2/v2.0/token",
                "http://127.0.0.300/{domain}/oauth2/v2.0/token",
                "http://localhost.evil.example/{domain}/oauth2/v2.0/token",
                "http://[::2]/{domain}/oauth2/v2.0/token", "http://10.0.0.1/{domain}/oauth2/v2.0/token"}) {
            assertThatThrownBy(() -> new EnvironmentRegistry(Map.of("local", Settings.endpoint(remote))))
                    .as(remote).isInstanceOfSatisfying(InvalidConfigurationException.class,
                            e -> assertThat(e.problems()).singleElement(as(InstanceOfAssertFactories.STRING))
                                    .startsWith("broker.environments.local.token-endpoint: must "));
        }
    }
}
