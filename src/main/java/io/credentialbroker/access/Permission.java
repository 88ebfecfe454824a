package io.credentialbroker.access;

import java.util.Arrays;
import java.util.Optional;

/** What a grant allows in an environment. */
public enum Permission {

    /** Get the environment's access tokens. */
    TOKEN("token"),
    /**
     * Get the environment's app+user tokens, which act as the admin agent who consented: granted apart
     * from {@link #TOKEN}.
     */
    APP_USER_TOKEN("app-user-token"),
    /**
     * Read the environment's credential metadata and rotate its key; install, read and retire its
     * app+user consent.
     */
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
