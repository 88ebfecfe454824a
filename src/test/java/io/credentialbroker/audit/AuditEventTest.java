package io.credentialbroker.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The audit line operators parse: one JSON object on one line, snake_case fields, the action and
 * outcome strings of before the enums, empty fields left out.
 */
class AuditEventTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Instant AT = Instant.parse("2026-11-24T12:00:00Z");

    @Test
    void writesAnIssuanceAsOneObjectOnOneLine() throws Exception {
        String line = AuditLog.line(AuditEvent.tokenIssued(AT, "system:serviceaccount:billing:api", "sandbox", 7,
                "3f9a1c0e5b27", "req-1"));

        assertThat(line).doesNotContain("\n").startsWith("{").endsWith("}");
        assertThat(line)
                .isEqualTo("{\"time\":\"2026-11-24T12:00:00Z\",\"caller\":\"system:serviceaccount:billing:api\","
                        + "\"environment\":\"sandbox\",\"action\":\"token.issue\",\"outcome\":\"granted\","
                        + "\"credential_version\":7,\"token_fingerprint\":\"3f9a1c0e5b27\",\"request_id\":\"req-1\"}");
    }

    @Test
    @DisplayName("the time is written as Instant#toString writes it: whole seconds, each fraction length, the second changing under it, the years at either end")
    void writesTheTimeAsInstantToStringDoes() throws Exception {
        List<Instant> times = new ArrayList<>(List.of(AT, AT, AT.plusMillis(1), AT.plusMillis(120), AT.plusNanos(1_000),
                AT.plusNanos(123_456_000), AT.plusNanos(1), AT.plusNanos(999_999_999), AT.plusSeconds(1), AT,
                AT.minusNanos(1), Instant.EPOCH, Instant.EPOCH.minusNanos(1), Instant.parse("0000-01-01T00:00:00Z"),
                Instant.parse("9999-12-31T23:59:59.999Z"), Instant.parse("+10000-01-01T00:00:00Z"),
                Instant.parse("-0001-12-31T23:59:59Z"), Instant.MIN, Instant.MAX));
        Random random = new Random(17);
        for (int i = 0; i < 1_000; i++) {
            times.add(AT.plusSeconds(random.nextInt(5)).plusNanos(random.nextInt(1_000_000_000)));
            times.add(AT.plusMillis(random.nextInt(5_000)));
            times.add(AT.plusNanos(1_000L * random.nextInt(5_000_000)));
        }
        for (Instant time : times) {
            JsonNode event = JSON.readTree(AuditLog.line(AuditEvent.tokenIssued(time, "caller", "sandbox", 1,
                    "3f9a1c0e5b27", "req-1")));
            assertThat(event.get("time").asText()).isEqualTo(time.toString());
        }
    }

    @Test
    @DisplayName("the line is what Jackson's generator writes for the same event, character for character: every field, quotes, backslashes, control characters, non-ASCII, surrogates, numbers at their limits")
    void writesWhatJacksonsGeneratorWrites() throws Exception {
        Random random = new Random(29);
        for (int i = 0; i < 5_000; i++) {
            AuditEvent event = new AuditEvent(AT.plusNanos(random.nextInt(1_000_000_000)), text(random),
                    maybe(random, text(random)), AuditAction.values()[random.nextInt(AuditAction.values().length)],
                    AuditOutcome.values()[random.nextInt(AuditOutcome.values().length)], number(random),
                    number(random), number(random), maybe(random, text(random)), maybe(random, text(random)),
                    maybe(random, text(random)), maybe(random, text(random)),
                    random.nextBoolean() ? List.of() : List.of(random.nextInt(), 0, Integer.MAX_VALUE),
                    maybe(random, text(random)), maybe(random, text(random)),
                    random.nextBoolean() ? null : random.nextLong(), random.nextBoolean() ? null : Long.MAX_VALUE);
            assertThat(AuditLog.line(event)).isEqualTo(throughJackson(event));
        }
    }

    /**
     * The line as the broker wrote it through Jackson's streaming generator before it was hand-built.
     */
    private static String throughJackson(AuditEvent event) throws Exception {
        java.io.StringWriter out = new java.io.StringWriter();
        try (JsonGenerator json = new JsonFactory().createGenerator(out)) {
            json.writeStartObject();
            json.writeStringField("time", event.time().toString());
            json.writeStringField("caller", event.caller());
            optional(json, "environment", event.environment());
            json.writeStringField("action", event.action().value());
            json.writeStringField("outcome", event.outcome().value());
            optional(json, "credential_version", event.credentialVersion());
            optional(json, "from_version", event.fromVersion());
            optional(json, "to_version", event.toVersion());
            optional(json, "token_fingerprint", event.tokenFingerprint());
            optional(json, "error_code", event.errorCode());
            optional(json, "request_id", event.requestId());
            optional(json, "rotation_id", event.rotationId());
            if (!event.azureAdErrorCodes().isEmpty()) {
                json.writeArrayFieldStart("azure_ad_error_codes");
                for (int code : event.azureAdErrorCodes()) {
                    json.writeNumber(code);
                }
                json.writeEndArray();
            }
            optional(json, "expected_tenant", event.expectedTenant());
            optional(json, "found_tenant", event.foundTenant());
            if (event.droppedEvents() != null) {
                json.writeNumberField("dropped_events", event.droppedEvents());
            }
            if (event.suppressedEvents() != null) {
                json.writeNumberField("suppressed_events", event.suppressedEvents());
            }
            json.writeEndObject();
        }
        return out.toString();
    }

    private static void optional(JsonGenerator json, String field, String value) throws Exception {
        if (value != null && !value.isEmpty()) {
            json.writeStringField(field, value);
        }
    }

    private static void optional(JsonGenerator json, String field, Integer value) throws Exception {
        if (value != null) {
            json.writeNumberField(field, value);
        }
    }

    private static final String[] PIECES = {"a", "Z", "0", " ", "/", "{", "<", "\"", "\\", "\n", "\r", "\t", "\b",
            "\f", "\u0000", "\u001f", "\u007f", "\u00e9", "\u20ac", "\ud83d\ude00", "\ud83d", "\ude00", "\u2028",
            "system:serviceaccount:billing:api"};

    private static String text(Random random) {
        StringBuilder text = new StringBuilder();
        for (int i = random.nextInt(8); i > 0; i--) {
            text.append(PIECES[random.nextInt(PIECES.length)]);
        }
        return text.toString();
    }

    private static String maybe(Random random, String value) {
        return random.nextInt(3) == 0 ? null : value;
    }

    private static Integer number(Random random) {
        return switch (random.nextInt(4)) {
            case 0 -> null;
            case 1 -> Integer.MIN_VALUE;
            case 2 -> random.nextInt(1_000);
            default -> random.nextInt();
        };
    }

    @Test
    void writesATenantMismatchWithBothTenants() throws Exception {
        JsonNode event = JSON.readTree(AuditLog.line(AuditEvent.tenantMismatch(AT, "primary",
                "0000aaaa-0000-4000-8000-000000000002", "0000aaaa-0000-4000-8000-000000000001")));

        assertThat(event.get("action").asText()).isEqualTo("token.mint");
        assertThat(event.get("outcome").asText()).isEqualTo("refused");
        assertThat(event.get("caller").asText()).isEqualTo("broker");
        assertThat(event.get("environment").asText()).isEqualTo("primary");
        assertThat(event.get("error_code").asText()).isEqualTo("tenant_mismatch");
        assertThat(event.get("expected_tenant").asText()).isEqualTo("0000aaaa-0000-4000-8000-000000000002");
        assertThat(event.get("found_tenant").asText()).isEqualTo("0000aaaa-0000-4000-8000-000000000001");
    }

    @Test
    void leavesOutAFoundTenantTheTokenDidNotName() throws Exception {
        JsonNode event = JSON.readTree(AuditLog.line(AuditEvent.tenantMismatch(AT, "primary",
                "0000aaaa-0000-4000-8000-000000000002", null)));

        assertThat(event.has("found_tenant")).isFalse();
        assertThat(event.get("expected_tenant").asText()).isEqualTo("0000aaaa-0000-4000-8000-000000000002");
    }

    @Test
    void escapesWhatACallerNameCouldCarry() throws Exception {
        String line = AuditLog.line(AuditEvent.accessDenied(AT, "evil\"\n{caller}", "(malformed)",
                AuditAction.CREDENTIALS_READ, null));

        assertThat(line).doesNotContain("\n");
        JsonNode event = JSON.readTree(line);
        assertThat(event.get("caller").asText()).isEqualTo("evil\"\n{caller}");
        assertThat(event.get("outcome").asText()).isEqualTo("denied");
        assertThat(event.get("error_code").asText()).isEqualTo("not_granted");
        assertThat(event.has("request_id")).isFalse();
    }

    @Test
    void keepsTheStringsOperatorsFilterOn() {
        assertThat(List.of(AuditAction.values())).extracting(AuditAction::value).contains("token.issue",
                "token.mint", "credentials.read", "credentials.rotate", "credentials.restore",
                "credentials.rotate.cancel", "credentials.rotation.read", "credentials.reload");
        assertThat(List.of(AuditOutcome.values())).extracting(AuditOutcome::value).contains("granted", "denied",
                "throttled", "failed", "succeeded", "rejected", "proving", "refused");
    }

    @Test
    void writesAFailedRotationWithAzureAdCodes() throws Exception {
        JsonNode event = JSON.readTree(AuditLog.line(AuditEvent.rotationFailed(AT, "ops", "lab",
                AuditAction.CREDENTIALS_ROTATE, 3, "credential_invalid", List.of(7000215))));

        assertThat(event.get("from_version").asInt()).isEqualTo(3);
        assertThat(event.get("azure_ad_error_codes").get(0).asInt()).isEqualTo(7000215);
        assertThat(event.has("to_version")).isFalse();
    }
}
