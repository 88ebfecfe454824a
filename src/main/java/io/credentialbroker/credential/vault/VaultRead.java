package io.credentialbroker.credential.vault;

import static io.credentialbroker.credential.CredentialStoreException.Reason.INVALID_CONTENT;
import static io.credentialbroker.credential.CredentialStoreException.Reason.NOT_FOUND;
import static io.credentialbroker.credential.CredentialStoreException.Reason.PERMISSION_DENIED;
import static io.credentialbroker.credential.CredentialStoreException.Reason.UNAVAILABLE;

import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.credentialbroker.credential.ClientSecret;
import io.credentialbroker.credential.CredentialStoreException;
import io.credentialbroker.credential.CredentialStoreException.Reason;
import io.credentialbroker.credential.PartnerCredential;
import io.credentialbroker.environment.Environment;
import io.quarkus.vault.client.VaultClientException;
import io.quarkus.vault.client.api.secrets.kv2.VaultSecretsKV2ReadSecretData;
import io.quarkus.vault.client.api.secrets.kv2.VaultSecretsKV2ReadSecretDataMetadata;

/**
 * One read of one environment's KV v2 secret: turns Vault's answer into a credential, or its
 * failure into the {@link CredentialStoreException} that says why there is none. Messages are built
 * from our own words, the environment, the path, the status and Vault's short error phrases; never
 * from a stored value or a response body, and no cause is chained, since quarkus-vault's exceptions
 * carry response text (a Jackson message quoting the body, the raw body of a non-JSON error).
 */
final class VaultRead {

    /**
     * The error phrases Vault and quarkus-vault use that are safe and useful to repeat. Anything else
     * an error list holds (a proxy's page, a parser's excerpt of the body) stays out of messages.
     */
    private static final List<String> KNOWN_PHRASES = List.of("permission denied", "invalid token",
            "missing client token", "Vault is sealed", "Vault is not initialized",
            "local node not active but active cluster node not found", "rate limit quota exceeded",
            "lease is not renewable", "invalid role name", "Unable to establish connection",
            "HTTP request timed out", "Connection was closed", "Failed to parse response body");

    private static final String DNS_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";

    /** A tenant domain: two or more DNS labels of letters, digits and inner hyphens, dot-separated. */
    private static final Pattern TENANT_DOMAIN = Pattern
            .compile("(?=.{1,253}$)" + DNS_LABEL + "(?:\\." + DNS_LABEL + ")+");

    /** A tenant ID. */
    private static final Pattern TENANT_ID = Pattern.compile(
            "[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}");

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Environment environment;
    private final String location;

    VaultRead(Environment environment, String mount) {
        this.environment = environment;
        this.location = mount + "/data/" + environment.vaultPath();
    }

    /** The API path read, {@code {mount}/data/{path}}, as operators see it in Vault's audit log. */
    String location() {
        return location;
    }

    PartnerCredential credentialFrom(VaultSecretsKV2ReadSecretData answer) {
        VaultSecretsKV2ReadSecretDataMetadata metadata = answer == null ? null : answer.getMetadata();
        if (metadata == null || metadata.getVersion() == null) {
            throw unusable("Vault's answer has no version metadata");
        }
        int version = metadata.getVersion();
        // Vault answers 404 for a deleted or destroyed version (see failed); a 200 only ever carries a
        // live version, whose deletion_time, if any, lies in the future (delete_version_after).
        if (Boolean.TRUE.equals(metadata.isDestroyed())) {
            throw unusable("version " + version + " is destroyed");
        }
        Map<String, Object> data = answer.getData();
        if (data == null || data.isEmpty()) {
            throw unusable("version " + version + " holds no data");
        }
        String clientId = requiredText(data, "client_id", version);
        String clientSecret = requiredText(data, "client_secret", version);
        String domain = requiredText(data, "domain", version);
        // The domain goes into the token endpoint's path; the value itself is never repeated, in case
        // fields were swapped and it holds the secret.
        if (!TENANT_DOMAIN.matcher(domain).matches() && !TENANT_ID.matcher(domain).matches()) {
            throw unusable("field 'domain' of version " + version
                    + " is neither a tenant domain nor a tenant ID (letters, digits, dots and hyphens)");
        }
        Instant createdTime = metadata.getCreatedTime() == null ? null : metadata.getCreatedTime().toInstant();
        return new PartnerCredential(clientId, new ClientSecret(clientSecret), domain, version, createdTime);
    }

    private String requiredText(Map<String, Object> data, String field, int version) {
        Object value = data.get(field);
        if (value == null) {
            throw unusable("field '" + field + "' of version " + version + " is missing");
        }
        if (!(value instanceof String text)) {
            throw unusable("field '" + field + "' of version " + version + " is not a string");
        }
        if (text.isBlank()) {
            throw unusable("field '" + field + "' of version " + version + " is empty");
        }
        return text;
    }

    /** What a failed read means for the caller (reliability cases 1, 4, 5 and 6). */
    CredentialStoreException failed(Throwable failure) {
        Throwable cause = failure;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException)
                && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause == null) {
            return exception(UNAVAILABLE, "reading " + location + " for environment '" + environment.name()
                    + "' failed without a cause");
        }
        if (!(cause instanceof VaultClientException vault)) {
            // Reset, closed or refused connections surface as the HTTP client's own IOExceptions.
            return exception(UNAVAILABLE, "could not reach Vault to read " + location + " for environment '"
                    + environment.name() + "' (" + cause.getClass().getSimpleName() + ")");
        }
        Integer status = vault.getStatus();
        String detail = detail(status, vault.getErrors());
        if (status == null) {
            return exception(UNAVAILABLE, "could not reach Vault to read " + location + " for environment '"
                    + environment.name() + "' (" + detail + ")");
        }
        if (status == 404) {
            return deletedVersion(vault.getBody())
                    .map(this::unusable)
                    .orElseGet(() -> exception(NOT_FOUND, "environment '" + environment.name()
                            + "' is not configured: Vault has no secret at " + location));
        }
        if (status == 403) {
            return exception(PERMISSION_DENIED, "Vault denied reading " + location + " for environment '"
                    + environment.name() + "' (" + detail + ")");
        }
        if (status >= 200 && status < 300) {
            return exception(UNAVAILABLE, "Vault's answer to the read of " + location + " for environment '"
                    + environment.name() + "' could not be parsed (" + detail + ")");
        }
        if (status == 412 || status == 429 || status >= 500 && status != 501) {
            return exception(UNAVAILABLE, "Vault could not serve " + location + " for environment '"
                    + environment.name() + "' (" + detail + ")");
        }
        // 400, 405, 501...: the request itself is wrong for this Vault (a mount that is not KV v2, a
        // bad login role). Retrying cannot help; like a 403 it needs an operator.
        return exception(PERMISSION_DENIED, "Vault refused reading " + location + " for environment '"
                + environment.name() + "' (" + detail + ")");
    }

    /**
     * Vault answers a read of a deleted or destroyed version with 404 and that version's metadata
     * ({@code data} null): that is a configured environment whose current credential was removed, not a
     * missing one. Only the metadata is looked at.
     */
    private static Optional<String> deletedVersion(String body) {
        if (body == null || body.isBlank()) {
            return Optional.empty();
        }
        JsonNode metadata;
        try {
            metadata = JSON.readTree(body).path("data").path("metadata");
        } catch (IOException e) {
            return Optional.empty();
        }
        if (!metadata.isObject()) {
            return Optional.empty();
        }
        String version = metadata.path("version").canConvertToInt() ? " " + metadata.path("version").asInt() : "";
        if (metadata.path("destroyed").asBoolean(false)) {
            return Optional.of("the current version" + version + " is destroyed; write a new version");
        }
        if (!metadata.path("deletion_time").asText("").isEmpty()) {
            return Optional.of("the current version" + version + " is deleted; undelete it or write a new version");
        }
        return Optional.empty();
    }

    /** "status 503: Vault is sealed": the status and the known phrases among Vault's errors. */
    private static String detail(Integer status, List<String> errors) {
        String known = errors == null
                ? ""
                : KNOWN_PHRASES.stream()
                        .filter(phrase -> errors.stream().anyMatch(error -> error != null
                                && error.toLowerCase(Locale.ROOT).contains(phrase.toLowerCase(Locale.ROOT))))
                        .collect(Collectors.joining(", "));
        if (status == null) {
            return known.isEmpty() ? "no answer" : known;
        }
        return known.isEmpty() ? "status " + status : "status " + status + ": " + known;
    }

    private CredentialStoreException unusable(String why) {
        return exception(INVALID_CONTENT, "the credential at " + location + " for environment '" + environment.name()
                + "' is unusable: " + why);
    }

    private CredentialStoreException exception(Reason reason, String message) {
        return new CredentialStoreException(reason, environment.name(), message);
    }
}
