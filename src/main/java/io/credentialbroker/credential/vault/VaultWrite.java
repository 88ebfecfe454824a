package io.credentialbroker.credential.vault;

import static io.credentialbroker.credential.CredentialStoreException.Reason.PERMISSION_DENIED;
import static io.credentialbroker.credential.CredentialStoreException.Reason.UNAVAILABLE;

import java.io.IOException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.credentialbroker.credential.CredentialStoreException;
import io.credentialbroker.credential.CredentialStoreException.Reason;
import io.credentialbroker.credential.CredentialVersionConflictException;
import io.credentialbroker.credential.PartnerCredential;
import io.credentialbroker.credential.StoredRecord;
import io.credentialbroker.environment.Environment;
import io.quarkus.vault.client.VaultClientException;
import io.quarkus.vault.client.common.VaultRequest;
import io.quarkus.vault.client.common.VaultResponse;

/**
 * One check-and-set write of one environment's KV v2 secret. The request is built by hand rather
 * than with {@code VaultSecretsKV2#updateSecret}: in quarkus-vault 4.7.0 that method maps Vault's
 * write answer onto a read's shape, so the new version is lost (docs/upstream-behaviour.md). Here
 * the version is read from the raw answer. Like {@link VaultRead}, failures carry our own words
 * only: never the request body (it holds the secret) nor Vault's raw answer.
 */
final class VaultWrite {

    /** Vault's words for a check-and-set mismatch, sent with a 400 (docs/upstream-behaviour.md). */
    private static final String CAS_MISMATCH = "check-and-set parameter did not match";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Environment environment;
    private final String mount;
    private final String path;
    private final String location;
    private final String what;
    private final int expectedVersion;

    /** A write of the environment's credential. */
    VaultWrite(Environment environment, String mount, int expectedVersion) {
        this(environment, mount, environment.vaultPath(), "the credential", expectedVersion);
    }

    private VaultWrite(Environment environment, String mount, String path, String what, int expectedVersion) {
        this.environment = environment;
        this.mount = mount;
        this.path = path;
        this.location = mount + "/data/" + path;
        this.what = what;
        this.expectedVersion = expectedVersion;
    }

    /** A write of the record {@code name} beside the environment's credential. */
    static VaultWrite ofRecord(Environment environment, String mount, String name, int expectedVersion) {
        return new VaultWrite(environment, mount, environment.vaultPath() + "/" + name, "the record " + name,
                expectedVersion);
    }

    String location() {
        return location;
    }

    /**
     * {@code POST {mount}/data/{path}} with {@code options.cas}: always, so that of two writers who
     * read the same version only one wins, and so that a mount with {@code cas_required} accepts the
     * write (reliability cases 8 and 23).
     */
    VaultRequest<Void> request(PartnerCredential candidate) {
        return request(Map.of("client_id", candidate.clientId(), "client_secret", candidate.clientSecret().reveal(),
                "domain", candidate.domain()));
    }

    /** As {@link #request(PartnerCredential)}, for any data. */
    VaultRequest<Void> request(Map<String, ?> data) {
        return VaultRequest.<Void>post("KV2 [" + mount + "] Update Secret (check-and-set)")
                .path(mount, "data", path)
                .body(Map.of("options", Map.of("cas", expectedVersion), "data", data))
                .expectOkStatus()
                .build();
    }

    /**
     * The credential as stored: Vault's answer is the new version's metadata ({@code data.version},
     * {@code data.created_time}). A successful check-and-set on version n always creates n + 1, so that
     * is the fallback should the answer be unreadable; the write did happen either way.
     */
    PartnerCredential storedFrom(VaultResponse<Void> response, PartnerCredential candidate) {
        StoredRecord written = writtenFrom(response, Map.of());
        return new PartnerCredential(candidate.clientId(), candidate.clientSecret(), candidate.domain(),
                written.version(), written.createdTime());
    }

    /** The version written, as {@link #storedFrom} reads it, holding {@code fields}. */
    StoredRecord writtenFrom(VaultResponse<Void> response, Map<String, String> fields) {
        int version = expectedVersion + 1;
        Instant createdTime = null;
        byte[] body = response.getBody().orElse(null);
        if (body != null && body.length > 0) {
            try {
                JsonNode metadata = JSON.readTree(body).path("data");
                if (metadata.path("version").canConvertToInt() && metadata.path("version").asInt() > 0) {
                    version = metadata.path("version").asInt();
                }
                String created = metadata.path("created_time").asText("");
                if (!created.isEmpty()) {
                    createdTime = OffsetDateTime.parse(created).toInstant();
                }
            } catch (IOException | DateTimeParseException e) {
                // keep the fallback; the parser's message would quote the body
            }
        }
        return new StoredRecord(version, createdTime, fields);
    }

    /**
     * What a failed write means: a lost check-and-set race, a {@link CredentialStoreException} that
     * says why nothing could be written, or one whose outcome is unknown (the request may have reached
     * Vault, but its answer was lost or not understood).
     *
     * @param cause
     *            the failure, out of its future's wrappers
     */
    RuntimeException failed(Throwable cause) {
        if (!(cause instanceof VaultClientException vault)) {
            return CredentialStoreException.outcomeUnknown(environment.name(), "no answer from Vault to the write of "
                    + location + " for environment '" + environment.name() + "' (" + cause.getClass().getSimpleName()
                    + "); the write may have happened");
        }
        Integer status = vault.getStatus();
        String detail = VaultRead.detail(status, vault.getErrors());
        if (status == null) {
            return CredentialStoreException.outcomeUnknown(environment.name(), "no answer from Vault to the write of "
                    + location + " for environment '" + environment.name() + "' (" + detail
                    + "); the write may have happened");
        }
        if (status == 400 && mentions(vault.getErrors(), CAS_MISMATCH)) {
            return new CredentialVersionConflictException(environment.name(), what, expectedVersion);
        }
        if (status == 403) {
            return exception(PERMISSION_DENIED, "Vault denied writing " + location + " for environment '"
                    + environment.name() + "' (" + detail + ")");
        }
        if (status >= 200 && status < 300) {
            return CredentialStoreException.outcomeUnknown(environment.name(),
                    "Vault's answer to the write of " + location + " for environment '"
                            + environment.name() + "' was not understood (" + detail
                            + "); the write may have happened");
        }
        if (status == 412 || status == 429 || status >= 500 && status != 501) {
            return exception(UNAVAILABLE, "Vault could not write " + location + " for environment '"
                    + environment.name() + "' (" + detail + ")");
        }
        return exception(PERMISSION_DENIED, "Vault refused writing " + location + " for environment '"
                + environment.name() + "' (" + detail + ")");
    }

    private static boolean mentions(List<String> errors, String phrase) {
        return errors != null && errors.stream().anyMatch(error -> error != null
                && error.toLowerCase(Locale.ROOT).contains(phrase.toLowerCase(Locale.ROOT)));
    }

    private CredentialStoreException exception(Reason reason, String message) {
        return new CredentialStoreException(reason, environment.name(), message);
    }
}
