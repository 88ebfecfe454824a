package io.credentialbroker.access;

import java.util.Arrays;
import java.util.Optional;

/** What a grant allows in an environment. */
public enum Permission {

    /** Get the environment's access tokens. */
    TOKEN("token"),
    /** Read the environment's credential metadata and rotate its key. */
    CREDENTIALS("credentials");

    private final String configName;

    Permission(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    static Optional<Permission> fromConfigName(String name) {
        return Arrays.stream(values()).filter(permission -> permission.configName.equals(name)).findFirst();
    }
}
