package io.credentialbroker.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.credentialbroker.config.BrokerConfig.GrantConfig;
import io.credentialbroker.config.InvalidConfigurationException;

class GrantsTest {

    record Grant(List<String> callers, List<String> environments, List<String> permissions) implements GrantConfig {
    }

    private static final List<String> ENVIRONMENTS = List.of("primary", "sandbox");
    private static final Caller BILLING = new Caller("system:serviceaccount:billing:api");
    private static final Caller OPS = new Caller("system:serviceaccount:ops:rotator");

    @Test
    void deniesByDefault() {
        Grants grants = new Grants(Map.of(), ENVIRONMENTS);

        assertThat(grants.allows(BILLING, "sandbox", Permission.TOKEN)).isFalse();
        assertThat(grants.environmentsOf(BILLING)).isEmpty();
    }

    @Test
    void grantsExactlyWhatIsNamed() {
        Grants grants = new Grants(Map.of("billing",
                new Grant(List.of(BILLING.name()), List.of("sandbox"), List.of("token"))), ENVIRONMENTS);

        assertThat(grants.allows(BILLING, "sandbox", Permission.TOKEN)).isTrue();
        assertThat(grants.allows(BILLING, "primary", Permission.TOKEN)).isFalse();
        assertThat(grants.allows(BILLING, "sandbox", Permission.CREDENTIALS)).isFalse();
        // app+user tokens act as a person: a token grant does not reach them
        assertThat(grants.allows(BILLING, "sandbox", Permission.APP_USER_TOKEN)).isFalse();
        assertThat(grants.allows(OPS, "sandbox", Permission.TOKEN)).isFalse();
        assertThat(grants.allowsEverywhere(BILLING, Permission.TOKEN)).isFalse();
    }

    @Test
    void appUserTokensAreGrantedByTheirOwnName() {
        Grants grants = new Grants(Map.of("partner-ops",
                new Grant(List.of(BILLING.name()), List.of("sandbox"), List.of("app-user-token"))), ENVIRONMENTS);

        assertThat(grants.allows(BILLING, "sandbox", Permission.APP_USER_TOKEN)).isTrue();
        assertThat(grants.allows(BILLING, "sandbox", Permission.TOKEN)).isFalse();
        assertThat(grants.allows(BILLING, "primary", Permission.APP_USER_TOKEN)).isFalse();
    }

    @Test
    void combinesGrantsAndExpandsTheWildcard() {
        Map<String, GrantConfig> configured = new LinkedHashMap<>();
        configured.put("ops", new Grant(List.of(OPS.name()), List.of("*"), List.of("credentials")));
        configured.put("ops-tokens", new Grant(List.of(OPS.name()), List.of("sandbox"), List.of("token")));
        Grants grants = new Grants(configured, ENVIRONMENTS);

        assertThat(grants.allows(OPS, "primary", Permission.CREDENTIALS)).isTrue();
        assertThat(grants.allows(OPS, "sandbox", Permission.TOKEN)).isTrue();
        assertThat(grants.allows(OPS, "primary", Permission.TOKEN)).isFalse();
        assertThat(grants.allowsEverywhere(OPS, Permission.CREDENTIALS)).isTrue();
        assertThat(grants.allowsEverywhere(OPS, Permission.TOKEN)).isFalse();
        assertThat(grants.environmentsOf(OPS)).containsExactlyInAnyOrder("primary", "sandbox");
    }

    @Test
    void refusesGrantsNamingUnknownEnvironmentsOrPermissions() {
        Map<String, GrantConfig> configured = new LinkedHashMap<>();
        configured.put("billing", new Grant(List.of(BILLING.name()), List.of("prod"), List.of("token", "admin")));
        configured.put("nobody", new Grant(List.of(" "), List.of("sandbox"), List.of("token")));

        assertThatThrownBy(() -> new Grants(configured, ENVIRONMENTS))
                .isInstanceOfSatisfying(InvalidConfigurationException.class, e -> assertThat(e.problems())
                        .containsExactly(
                                "broker.grants.billing.permissions: unknown permission 'admin' (expected token, app-user-token or credentials)",
                                "broker.grants.billing.environments: unknown environment 'prod' (configured: primary, sandbox)",
                                "broker.grants.nobody.callers: names no caller"));
    }
}
