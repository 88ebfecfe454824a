package io.credentialbroker.credential.vault;

import static io.credentialbroker.credential.CredentialStoreException.Reason.INVALID_CONTENT;
import static io.credentialbroker.credential.CredentialStoreException.Reason.NOT_FOUND;
import static io.credentialbroker.credential.CredentialStoreException.Reason.PERMISSION_DENIED;
import static io.credentialbroker.credential.CredentialStoreException.Reason.UNAVAILABLE;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.credentialbroker.credential.ClientSecret;
import io.credentialbroker.credential.CredentialMetadata;
import io.credentialbroker.credential.CredentialMetadata.VersionMetadata;
import io.credentialbroker.credential.CredentialStoreException;
import io.credentialbroker.credential.CredentialStoreException.Reason;
import io.credentialbroker.credential.PartnerCredential;
import io.credentialbroker.credential.StoredRecord;
import io.credentialbroker.environment.Environment;
import io.quarkus.vault.client.VaultClientException;
import io.quarkus.vault.client.api.secrets.kv2.VaultSecretsKV2ReadSecretData;
import io.quarkus.vault.client.api.secrets.kv2.VaultSecretsKV2ReadSecretDataMetadata;
import io.quarkus.vault.client.api.secrets.kv2.VaultSecretsKV2ReadSecretMetadataResultData;
import io.quarkus.vault.client.api.secrets.kv2.VaultSecretsKV2ReadSecretMetadataVersion;

/**
 * One read of one environment's KV v2 secret (its current version, one given version, or its
 * metadata): turns Vault's answer into a credential or metadata, or its failure into the
 * {@link CredentialStoreException} that says why there is none. Messages are built from our own
 * words, the environment, the path, the status and Vault's short error phrases; never from a stored
 * value or a response body, and no cause is chained, since quarkus-vault's exceptions carry
 * response text (a Jackson message quoting the body, the raw body of a non-JSON error).
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

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Environment environment;
    private final String location;
    /** The version asked for, or null for the current one. */
    private final Integer requestedVersion;

    /** A read of the current version. */
    VaultRead(Environment environment, String mount) {
        this(environment, mount + "/data/" + environment.vaultPath(), null);
    }

    private VaultRead(Environment environment, String location, Integer requestedVersion) {
        this.environment = environment;
        this.location = location;
        this.requestedVersion = requestedVersion;
    }

    /** A read of one given version. */
    static VaultRead ofVersion(Environment environment, String mount, int version) {
        return new VaultRead(environment, mount + "/data/" + environment.vaultPath(), version);
    }

    /** A read of the current version of the record {@code name} beside the environment's credential. */
    static VaultRead ofRecord(Environment environment, String mount, String name) {
        return new VaultRead(environment, mount + "/data/" + environment.vaultPath() + "/" + name, null);
    }

    /**
     * The metadata of the record {@code name} (to delete it): its failures read as a read's, a 404 as
     * the record's absence.
     */
    static VaultRead ofRecordMetadata(Environment environment, String mount, String name) {
        return new VaultRead(environment, mount + "/metadata/" + environment.vaultPath() + "/" + name, null);
    }

    /** A read of the secret's metadata: no data, so no secret. */
    static VaultRead ofMetadata(Environment environment, String mount) {
        return new VaultRead(environment, mount + "/metadata/" + environment.vaultPath(), null);
    }

    /**
     * The API path read, e.g. {@code {mount}/data/{path}}, as operators see it in Vault's audit log.
     */
    String location() {
        return location;
    }

    CredentialMetadata metadataFrom(VaultSecretsKV2ReadSecretMetadataResultData answer) {
        if (answer == null || answer.getCurrentVersion() == null || answer.getCurrentVersion() < 1) {
            throw unusable("Vault's metadata names no current version");
        }
        // A deletion_time in the future is a scheduled deletion (delete_version_after): still readable.
        // Vault stamps it with its own clock, so it is compared with the wall clock, not the broker's.
        Instant now = Instant.now();
        List<VersionMetadata> versions = new ArrayList<>();
        Map<String, VaultSecretsKV2ReadSecretMetadataVersion> kept = answer.getVersions() == null
                ? Map.of()
                : answer.getVersions();
        kept.forEach((number, version) -> {
            if (number == null || !number.matches("[0-9]{1,9}") || version == null) {
                return;
            }
            Instant deletion = version.getDeletionTime() == null ? null : version.getDeletionTime().toInstant();
            versions.add(new VersionMetadata(Integer.parseInt(number),
                    version.getCreatedTime() == null ? null : version.getCreatedTime().toInstant(),
                    deletion != null && !deletion.isAfter(now), Boolean.TRUE.equals(version.isDestroyed())));
        });
        return new CredentialMetadata(answer.getCurrentVersion(), versions);
    }

    PartnerCredential credentialFrom(VaultSecretsKV2ReadSecretData answer) {
        VaultSecretsKV2ReadSecretDataMetadata metadata = answer == null ? null : answer.getMetadata();
        if (metadata == null || metadata.getVersion() == null) {
            throw unusable("Vault's answer has no version metadata");
        }
        int version = metadata.getVersion();
        if (requestedVersion != null && version != requestedVersion) {
            throw unusable("Vault answered version " + version + " when asked for version " + requestedVersion);
        }
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
        if (!PartnerCredential.isTenant(domain)) {
            throw unusable("field 'domain' of version " + version
                    + " is neither a tenant domain nor a tenant ID (letters, digits, dots and hyphens)");
        }
        Instant createdTime = metadata.getCreatedTime() == null ? null : metadata.getCreatedTime().toInstant();
        return new PartnerCredential(clientId, new ClientSecret(clientSecret), domain, version, createdTime);
    }

    /**
     * A record's current version. Its values must be strings: anything else is not a record the broker
     * wrote, and no value is repeated.
     */
    StoredRecord recordFrom(VaultSecretsKV2ReadSecretData answer) {
        VaultSecretsKV2ReadSecretDataMetadata metadata = answer == null ? null : answer.getMetadata();
        if (metadata == null || metadata.getVersion() == null || metadata.getVersion() < 1) {
            throw unusable("Vault's answer has no version metadata");
        }
        int version = metadata.getVersion();
        Map<String, String> fields = new HashMap<>();
        Map<String, Object> data = answer.getData() == null ? Map.of() : answer.getData();
        data.forEach((field, value) -> {
            if (!(value instanceof String text)) {
                throw unusable("field '" + field + "' of version " + version + " is not a string");
            }
            fields.put(field, text);
        });
        Instant createdTime = metadata.getCreatedTime() == null ? null : metadata.getCreatedTime().toInstant();
        return new StoredRecord(version, createdTime, fields);
    }

    /**
     * As {@link #failed}, except that a 404 is an answer rather than a failure: nothing was ever
     * written ({@link AbsentRecord} with nothing), or the current version was deleted (with that
     * version, and no fields).
     */
    RuntimeException recordFailed(Throwable cause) {
        if (cause instanceof VaultClientException vault && vault.getStatus() != null && vault.getStatus() == 404) {
            return new AbsentRecord(deletedVersionNumber(vault.getBody())
                    .map(version -> new StoredRecord(version, null, Map.of())));
        }
        return failed(cause);
    }

    /**
     * Not a failure: how a 404 leaves {@code await}, which only knows failures.
     * {@link VaultCredentialStore} turns it back into an answer.
     */
    static final class AbsentRecord extends RuntimeException {

        private final transient Optional<StoredRecord> deleted;

        AbsentRecord(Optional<StoredRecord> deleted) {
            super("no current version", null, false, false);
            this.deleted = deleted;
        }

        /** The deleted current version, or empty if nothing was ever written. */
        Optional<StoredRecord> deleted() {
            return deleted;
        }
    }

    private static Optional<Integer> deletedVersionNumber(String body) {
        if (body == null || body.isBlank()) {
            return Optional.empty();
        }
        try {
            JsonNode version = JSON.readTree(body).path("data").path("metadata").path("version");
            return version.canConvertToInt() && version.asInt() > 0 ? Optional.of(version.asInt()) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
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

    /**
     * What a failed read means for the caller (reliability cases 1, 4, 5 and 6).
     *
     * @param cause
     *            the failure, out of its future's wrappers
     */
    CredentialStoreException failed(Throwable cause) {
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
            return deletedVersion(vault.getBody(), requestedVersion)
                    .map(this::unusable)
                    .orElseGet(() -> requestedVersion == null
                            ? exception(NOT_FOUND, "environment '" + environment.name()
                                    + "' is not configured: Vault has no secret at " + location)
                            : exception(NOT_FOUND, "Vault has no version " + requestedVersion + " at " + location
                                    + " for environment '" + environment.name()
                                    + "' (never written, or fallen away past max_versions)"));
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
            return CredentialStoreException.retryable(environment.name(), "Vault could not serve " + location
                    + " for environment '" + environment.name() + "' (" + detail + ")");
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
    private static Optional<String> deletedVersion(String body, Integer requestedVersion) {
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
        String which = requestedVersion == null ? "the current version" + version : "version" + version;
        if (metadata.path("destroyed").asBoolean(false)) {
            return Optional.of(which + " is destroyed; write a new version");
        }
        if (!metadata.path("deletion_time").asText("").isEmpty()) {
            return Optional.of(which + " is deleted; undelete it or write a new version");
        }
        return Optional.empty();
    }

    /** "status 503: Vault is sealed": the status and the known phrases among Vault's errors. */
    static String detail(Integer status, List<String> errors) {
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
        return exception(INVALID_CONTENT, "what is stored at " + location + " for environment '" + environment.name()
                + "' is unusable: " + why);
    }

    private CredentialStoreException exception(Reason reason, String message) {
        return new CredentialStoreException(reason, environment.name(), message);
    }
}
