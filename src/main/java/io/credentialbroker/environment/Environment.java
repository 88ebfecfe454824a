package io.credentialbroker.environment;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.Optional;

/**
 * One Partner Center account the broker serves tokens for: a name, a cloud, where its credential
 * lives in Vault, and where its tokens are minted. Nothing is shared between environments.
 *
 * @param name
 *            the environment's name as callers use it ({@code sandbox}, {@code primary}, ...)
 * @param tenantId
 *            the Entra tenant ID every token minted for it must carry ({@code tid}), lowercase
 * @param cloud
 *            the Azure cloud its app is registered in
 * @param vaultPath
 *            the secret's path below the KV v2 mount
 * @param tokenEndpointTemplate
 *            the token endpoint, with {@code {domain}} standing for the tenant
 * @param resource
 *            the Partner Center resource the tokens are for
 * @param appUserRequiresMfa
 *            whether an app+user token must say its user signed in with multifactor authentication
 */
public record Environment(String name, TenantId tenantId, Cloud cloud, String vaultPath, String tokenEndpointTemplate,
        String resource, boolean appUserRequiresMfa) {

    /** Where {@link #tokenEndpointTemplate()} takes the tenant domain. */
    public static final String DOMAIN_PLACEHOLDER = "{domain}";

    public Environment {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(tenantId, "tenantId");
        Objects.requireNonNull(cloud, "cloud");
        Objects.requireNonNull(vaultPath, "vaultPath");
        Objects.requireNonNull(tokenEndpointTemplate, "tokenEndpointTemplate");
        Objects.requireNonNull(resource, "resource");
    }

    /** An environment whose app+user tokens must carry MFA, the default. */
    public Environment(String name, TenantId tenantId, Cloud cloud, String vaultPath, String tokenEndpointTemplate,
            String resource) {
        this(name, tenantId, cloud, vaultPath, tokenEndpointTemplate, resource, true);
    }

    /** The v2 endpoint of the cloud's authority: {@code {authority}/{domain}/oauth2/v2.0/token}. */
    public static String defaultTokenEndpoint(Cloud cloud) {
        return cloud.authority() + "/" + DOMAIN_PLACEHOLDER + "/oauth2/v2.0/token";
    }

    /**
     * The token endpoint for one tenant domain; the domain is URL-encoded, so it cannot change the
     * path.
     */
    public URI tokenEndpoint(String domain) {
        return URI.create(tokenEndpointTemplate.replace(DOMAIN_PLACEHOLDER,
                URLEncoder.encode(domain, StandardCharsets.UTF_8)));
    }

    /**
     * The authorize endpoint beside the token endpoint, where an admin agent's browser is sent to
     * consent: {@code .../oauth2/v2.0/authorize} (v1: {@code .../oauth2/authorize}); empty when the
     * token endpoint's path does not end in {@code /token} (a proxy of another shape).
     */
    public Optional<URI> authorizeEndpoint(String domain) {
        URI token = tokenEndpoint(domain);
        String path = token.getRawPath();
        if (path == null || !path.endsWith("/token") || token.getRawQuery() != null) {
            return Optional.empty();
        }
        String base = token.toString();
        return Optional.of(URI.create(base.substring(0, base.length() - "token".length()) + "authorize"));
    }

    /**
     * Whether the endpoint is Azure AD's v1 ({@code .../oauth2/token}), which takes {@code resource}
     * instead of v2's {@code scope} (docs/upstream-behaviour.md).
     */
    public boolean usesV1Endpoint() {
        return tokenEndpointTemplate.replace(DOMAIN_PLACEHOLDER, "tenant").endsWith("/oauth2/token");
    }
}
