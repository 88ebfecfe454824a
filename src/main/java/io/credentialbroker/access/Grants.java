package io.credentialbroker.access;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import io.credentialbroker.config.BrokerConfig;
import io.credentialbroker.config.BrokerConfig.GrantConfig;
import io.credentialbroker.config.InvalidConfigurationException;
import io.credentialbroker.environment.Environment;
import io.credentialbroker.environment.EnvironmentRegistry;
import io.quarkus.runtime.Startup;

/**
 * Who may do what in which environment, from {@code broker.grants.*}. Default deny: a caller,
 * environment or permission no grant names is refused. Built and checked at startup; a grant that
 * names an unknown environment or permission stops it.
 */
@Startup
@Singleton
public class Grants {

    /** caller → environment → permissions */
    private final Map<String, Map<String, Set<Permission>>> byCaller;
    /**
     * caller → permissions granted on {@code *}: such a caller may learn that an environment does not
     * exist
     */
    private final Map<String, Set<Permission>> everywhere;

    @Inject
    Grants(BrokerConfig config, EnvironmentRegistry environments) {
        this(config.grants(), environments.all().stream().map(Environment::name).toList());
    }

    Grants(Map<String, ? extends GrantConfig> grants, List<String> environments) {
        List<String> problems = new ArrayList<>();
        Map<String, Map<String, Set<Permission>>> built = new HashMap<>();
        Map<String, Set<Permission>> wildcard = new HashMap<>();
        new TreeMap<>(grants).forEach((name, grant) -> {
            String key = "broker.grants." + name;
            Set<Permission> permissions = EnumSet.noneOf(Permission.class);
            for (String permission : grant.permissions()) {
                Permission.fromConfigName(permission.trim()).ifPresentOrElse(permissions::add,
                        () -> problems.add(key + ".permissions: unknown permission '" + permission
                                + "' (expected token, app-user-token or credentials)"));
            }
            Set<String> covered = new HashSet<>();
            boolean all = false;
            for (String environment : grant.environments()) {
                String trimmed = environment.trim();
                if (trimmed.equals("*")) {
                    all = true;
                    covered.addAll(environments);
                } else if (environments.contains(trimmed)) {
                    covered.add(trimmed);
                } else {
                    problems.add(key + ".environments: unknown environment '" + trimmed + "' (configured: "
                            + String.join(", ", environments) + ")");
                }
            }
            if (grant.callers().stream().allMatch(String::isBlank)) {
                problems.add(key + ".callers: names no caller");
            }
            for (String caller : grant.callers()) {
                if (caller.isBlank()) {
                    continue;
                }
                if (all) {
                    wildcard.computeIfAbsent(caller.trim(), ignored -> EnumSet.noneOf(Permission.class))
                            .addAll(permissions);
                }
                Map<String, Set<Permission>> perEnvironment = built.computeIfAbsent(caller.trim(),
                        ignored -> new HashMap<>());
                for (String environment : covered) {
                    perEnvironment.computeIfAbsent(environment, ignored -> EnumSet.noneOf(Permission.class))
                            .addAll(permissions);
                }
            }
        });
        if (!problems.isEmpty()) {
            throw new InvalidConfigurationException(problems);
        }
        this.byCaller = Collections.unmodifiableMap(built);
        this.everywhere = Collections.unmodifiableMap(wildcard);
    }

    public boolean isEmpty() {
        return byCaller.isEmpty();
    }

    /** Whether the caller has the permission in this configured environment. */
    public boolean allows(Caller caller, String environment, Permission permission) {
        return byCaller.getOrDefault(caller.name(), Map.of()).getOrDefault(environment, Set.of())
                .contains(permission);
    }

    /**
     * Whether the caller has the permission in every environment ({@code *}), and so may be told that a
     * name it asked for is not one; anyone else is refused alike for unknown and forbidden
     * environments, so a refusal does not reveal which environments exist.
     */
    public boolean allowsEverywhere(Caller caller, Permission permission) {
        return everywhere.getOrDefault(caller.name(), Set.of()).contains(permission);
    }

    /** The environments in which the caller has at least one permission. */
    public Set<String> environmentsOf(Caller caller) {
        return byCaller.getOrDefault(caller.name(), Map.of()).keySet();
    }
}
