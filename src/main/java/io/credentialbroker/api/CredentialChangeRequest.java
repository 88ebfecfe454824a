package io.credentialbroker.api;

import java.io.IOException;
import java.util.Iterator;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.credentialbroker.credential.ClientSecret;
import io.credentialbroker.credential.PartnerCredential;
import io.credentialbroker.rotation.CredentialChange;

/**
 * Reads the body of {@code PUT /v1/environments/{env}/credentials}: {@code {"client_secret": "...",
 * "client_id"?: "...", "domain"?: "..."}} or {@code {"restore_version": N}}. Anything else is a 400
 * naming the field. No message ever repeats a value from the body (a secret pasted into the wrong
 * field must not come back in an answer), nor a parser's message, which quotes the input.
 */
final class CredentialChangeRequest {

    static final String CLIENT_SECRET = "client_secret";
    static final String CLIENT_ID = "client_id";
    static final String DOMAIN = "domain";
    static final String RESTORE_VERSION = "restore_version";

    /** Far more than any valid body; a larger one is not a credential change. */
    static final int MAX_BODY_CHARS = 4096;

    private static final Set<String> FIELDS = Set.of(CLIENT_SECRET, CLIENT_ID, DOMAIN, RESTORE_VERSION);

    /**
     * An unknown field's name is repeated only if it looks like a field name, not like a pasted value.
     */
    private static final Pattern FIELD_NAME = Pattern.compile("[A-Za-z][A-Za-z_]{0,39}");

    /** Strict: a field given twice is refused rather than silently taking the last value. */
    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private CredentialChangeRequest() {
    }

    static CredentialChange parse(String body) {
        if (body == null || body.isBlank()) {
            throw invalid(null, "The request needs a JSON body: {\"client_secret\": \"...\"} to rotate the key, or"
                    + " {\"restore_version\": N} to restore a version.");
        }
        if (body.length() > MAX_BODY_CHARS) {
            throw invalid(null, "The body is larger than " + MAX_BODY_CHARS + " characters; it cannot be a credential"
                    + " change.");
        }
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (IOException e) {
            throw invalid(null, "The body is not a valid JSON object (or names a field twice).");
        }
        if (root == null || !root.isObject()) {
            throw invalid(null, "The body must be a JSON object.");
        }
        for (Iterator<String> names = root.fieldNames(); names.hasNext();) {
            String name = names.next();
            if (!FIELDS.contains(name)) {
                throw FIELD_NAME.matcher(name).matches()
                        ? invalid(name, "Unknown field '" + name + "'; a change takes client_secret, client_id and"
                                + " domain, or restore_version.")
                        : invalid(null, "The body holds an unknown field; a change takes client_secret, client_id"
                                + " and domain, or restore_version.");
            }
        }
        if (root.has(RESTORE_VERSION)) {
            return restore(root);
        }
        if (!root.has(CLIENT_SECRET)) {
            throw invalid(CLIENT_SECRET, "client_secret is required (or restore_version, to restore a version).");
        }
        return new CredentialChange.NewKey(secret(root.get(CLIENT_SECRET)), clientId(root.get(CLIENT_ID)),
                domain(root.get(DOMAIN)));
    }

    private static CredentialChange restore(JsonNode root) {
        if (root.has(CLIENT_SECRET)) {
            throw invalid(RESTORE_VERSION, "Give either client_secret (a new key) or restore_version (a stored"
                    + " version), not both.");
        }
        for (String field : new String[]{CLIENT_ID, DOMAIN}) {
            if (root.has(field)) {
                throw invalid(field, field + " cannot be given with restore_version: a restore stores that version"
                        + " as it was.");
            }
        }
        JsonNode version = root.get(RESTORE_VERSION);
        if (!version.isIntegralNumber() || !version.canConvertToInt() || version.intValue() < 1) {
            throw invalid(RESTORE_VERSION, "restore_version must be a whole number of 1 or more (a version from"
                    + " GET .../credentials/versions).");
        }
        return new CredentialChange.Restore(version.intValue());
    }

    private static ClientSecret secret(JsonNode node) {
        String value = text(node, CLIENT_SECRET);
        if (value.isEmpty()) {
            throw invalid(CLIENT_SECRET, "client_secret must not be empty.");
        }
        if (value.length() < ClientSecret.MIN_LENGTH) {
            throw invalid(CLIENT_SECRET, "client_secret is shorter than " + ClientSecret.MIN_LENGTH
                    + " characters; Azure AD's client secrets are 40.");
        }
        if (value.length() > ClientSecret.MAX_LENGTH) {
            throw invalid(CLIENT_SECRET, "client_secret is longer than " + ClientSecret.MAX_LENGTH
                    + " characters; Azure AD's client secrets are 40.");
        }
        if (!ClientSecret.hasSecretCharacters(value)) {
            throw invalid(CLIENT_SECRET, "client_secret may hold printable ASCII characters only, with no spaces.");
        }
        return new ClientSecret(value);
    }

    private static Optional<String> clientId(JsonNode node) {
        if (node == null) {
            return Optional.empty();
        }
        String value = text(node, CLIENT_ID);
        if (!PartnerCredential.isClientId(value)) {
            throw invalid(CLIENT_ID, "client_id must be the app's (client) ID, a GUID such as"
                    + " 00000000-0000-0000-0000-000000000000.");
        }
        return Optional.of(value);
    }

    private static Optional<String> domain(JsonNode node) {
        if (node == null) {
            return Optional.empty();
        }
        String value = text(node, DOMAIN);
        if (!PartnerCredential.isTenant(value)) {
            throw invalid(DOMAIN, "domain must be the tenant's domain (e.g. contoso.onmicrosoft.com) or its tenant"
                    + " ID (a GUID).");
        }
        return Optional.of(value);
    }

    private static String text(JsonNode node, String field) {
        if (!node.isTextual()) {
            throw invalid(field, field + " must be a JSON string.");
        }
        return node.textValue();
    }

    private static InvalidRequestException invalid(String field, String message) {
        return new InvalidRequestException(field, message);
    }
}
