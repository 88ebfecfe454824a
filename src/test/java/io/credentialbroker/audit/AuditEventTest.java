package io.credentialbroker.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

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
