package io.credentialbroker.environment;

import java.net.URI;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/**
 * The Azure clouds Partner Center runs in, each with its own Azure AD authority and Partner Center
 * resource (docs/upstream-behaviour.md, "Azure AD token request"). A credential registered in one
 * cloud fails in another, so the cloud is part of an environment's identity.
 */
public enum Cloud {

    PUBLIC("https://login.microsoftonline.com", "https://api.partnercenter.microsoft.com"),
    /**
     * Microsoft Cloud for US Government; the resource is the public one, as Microsoft's own tooling
     * uses.
     */
    USGOV("https://login.microsoftonline.us", "https://api.partnercenter.microsoft.com"),
    /** Operated by 21Vianet. */
    CHINA("https://login.partner.microsoftonline.cn", "https://partner.partnercenterapi.microsoftonline.cn");

    private final URI authority;
    private final String resource;

    Cloud(String authority, String resource) {
        this.authority = URI.create(authority);
        this.resource = resource;
    }

    public URI authority() {
        return authority;
    }

    public String resource() {
        return resource;
    }

    /** The name operators write in configuration: {@code public}, {@code usgov}, {@code china}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<Cloud> fromConfigName(String name) {
        return Arrays.stream(values()).filter(cloud -> cloud.configName().equals(name)).findFirst();
    }
}
