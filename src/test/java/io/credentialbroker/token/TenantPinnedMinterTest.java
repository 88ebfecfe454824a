package io.credentialbroker.token;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.credentialbroker.audit.AuditLog;
import io.credentialbroker.credential.ClientSecret;
import io.credentialbroker.credential.PartnerCredential;
import io.credentialbroker.environment.Cloud;
import io.credentialbroker.environment.Environment;
import io.credentialbroker.testing.AzureAdStandIn;
import io.credentialbroker.testing.Fixtures;

/** Reading {@code tid} from what Azure AD issued, and failing closed on anything else (case 41). */
class TenantPinnedMinterTest {

    private static final Environment SANDBOX = new Environment("sandbox", Fixtures.SANDBOX.tenant(), Cloud.PUBLIC,
            "partner-center/sandbox", Environment.defaultTokenEndpoint(Cloud.PUBLIC), Cloud.PUBLIC.resource());
    private static final PartnerCredential CREDENTIAL = new PartnerCredential(Fixtures.SANDBOX.clientId(),
            new ClientSecret(Fixtures.SANDBOX.clientSecret()), Fixtures.SANDBOX.domain(), 1, Instant.EPOCH);

    @Test
    void readsTheTenantClaimOfACompactJwt() {
        assertThat(TenantPinnedMinter.tenantOf(AzureAdStandIn.newToken(Fixtures.SANDBOX, "t")))
                .hasValue(Fixtures.SANDBOX.tenantId());
    }

    @Test
    void findsNoTenantInAnythingButASignedJwtWithATextualTid() {
        String header = encode("{\"alg\":\"none\"}");
        for (String token : new String[]{"opaque-fake-token", "", ".", "..", "a.b", header + ".!!!.sig",
                header + "." + encode("[1,2]") + ".sig", header + "." + encode("not json") + ".sig",
                header + "." + encode("{\"tid\":42}") + ".sig", header + "." + encode("{\"oid\":\"x\"}") + ".sig",
                // an encrypted JWT (JWE) has five parts, and its payload cannot be read
                header + "." + encode("{\"tid\":\"x\"}") + ".sig.more.parts",
                "." + encode("{\"tid\":\"x\"}") + ".sig"}) {
            assertThat(TenantPinnedMinter.tenantOf(token)).as(token).isEmpty();
        }
    }

    @Test
    void passesAnswersOtherThanATokenThroughUntouched() {
        MintResult.Failed refused = MintResult.Failed.withoutBody(MintResult.FailureKind.CREDENTIAL_INVALID, 401,
                "invalid_client");
        assertThat(pinned((environment, credential) -> refused).mint(SANDBOX, CREDENTIAL)).isSameAs(refused);
    }

    @Test
    void turnsATokenFromAnotherTenantIntoATenantMismatch() {
        MintResult foreign = new MintResult.Issued(AzureAdStandIn.newToken(Fixtures.FOREIGN_TENANT, "f"),
                Duration.ofHours(1), Optional.empty());
        MintResult own = new MintResult.Issued(AzureAdStandIn.newToken(Fixtures.SANDBOX, "own"), Duration.ofHours(1),
                Optional.empty());

        assertThat(pinned((environment, credential) -> foreign).mint(SANDBOX, CREDENTIAL))
                .isInstanceOfSatisfying(MintResult.Failed.class, failed -> {
                    assertThat(failed.kind()).isEqualTo(MintResult.FailureKind.TENANT_MISMATCH);
                    assertThat(failed.error()).isEqualTo("tenant_mismatch");
                    assertThat(failed.toString()).doesNotContain(((MintResult.Issued) foreign).accessToken());
                });
        assertThat(pinned((environment, credential) -> own).mint(SANDBOX, CREDENTIAL)).isSameAs(own);
    }

    private static TenantPinnedMinter pinned(TokenMinter delegate) {
        return new TenantPinnedMinter(delegate, new AuditLog(new ObjectMapper()),
                Clock.fixed(Instant.EPOCH, ZoneOffset.UTC));
    }

    private static String encode(String text) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }
}
