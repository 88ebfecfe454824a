package io.credentialbroker.token;

import java.time.Clock;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

import jakarta.annotation.Priority;
import jakarta.decorator.Decorator;
import jakarta.decorator.Delegate;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import io.credentialbroker.audit.AuditEvent;
import io.credentialbroker.audit.AuditLog;
import io.credentialbroker.credential.PartnerCredential;
import io.credentialbroker.environment.Environment;
import io.credentialbroker.environment.TenantId;

/**
 * Holds every token minted for an environment against the tenant it is pinned to, before anything
 * trusts it: the cache's warm-up, refreshes and re-reads, a rotation's proof, and every app+user
 * exchange (of a refresh token or a consent's authorization code) all mint through here, so a
 * credential of another account stored under an environment's name can never yield a token labelled
 * with that environment (docs/upstream-behaviour.md, "Tokens name their tenant").
 *
 * <p>
 * Azure AD's access tokens are JWTs whose payload names the issuing tenant as {@code tid}. The
 * broker is not their audience and got them over TLS from the configured authority, so it reads the
 * claim without checking the signature. A token that is not a readable JWT, or has no {@code tid},
 * fails closed: it is refused exactly like one from another tenant.
 */
@Decorator
@Priority(10)
public class TenantPinnedMinter implements TokenMinter {

    /** The error of a refused token, in {@link MintResult.Failed#error()} and metrics. */
    public static final String TENANT_MISMATCH = "tenant_mismatch";

    private static final Logger LOG = Logger.getLogger(TenantPinnedMinter.class);

    private final TokenMinter delegate;
    private final AuditLog audit;
    private final Clock clock;

    @Inject
    public TenantPinnedMinter(@Delegate TokenMinter delegate, AuditLog audit, Clock clock) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
        this.audit = Objects.requireNonNull(audit, "audit");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public MintResult mint(Environment environment, PartnerCredential credential) {
        return pinned(environment, credential, delegate.mint(environment, credential));
    }

    /** App+user tokens are held to the pin exactly as app-only ones. */
    @Override
    public MintResult exchange(Environment environment, PartnerCredential credential, UserGrant grant) {
        return pinned(environment, credential, delegate.exchange(environment, credential, grant));
    }

    private MintResult pinned(Environment environment, PartnerCredential credential, MintResult result) {
        if (!(result instanceof MintResult.Issued issued)) {
            return result;
        }
        Optional<String> found = tenantOf(issued.accessToken());
        if (found.isPresent() && environment.tenantId().matches(found.get())) {
            return result;
        }
        // Tenant IDs are not secrets; a claim that is not a GUID is not repeated, so a token cannot write
        // into our logs.
        String foundTenant = found.flatMap(TenantId::parse).map(TenantId::value).orElse(null);
        String shown = foundTenant != null
                ? foundTenant
                : found.isPresent() ? "a value that is not a GUID" : "none (not a JWT, or no tid claim)";
        LOG.warnf("Refused a token minted for environment '%s' with credential version %d: it comes from tenant %s,"
                + " but the environment is pinned to tenant %s; it is neither cached nor served. Check the credential"
                + " stored at the environment's Vault path and broker.environments.%s.tenant-id", environment.name(),
                credential.version(), shown, environment.tenantId(), environment.name());
        audit.record(AuditEvent.tenantMismatch(clock.instant(), environment.name(), environment.tenantId().value(),
                foundTenant));
        return new MintResult.Failed(MintResult.FailureKind.TENANT_MISMATCH, 200, TENANT_MISMATCH, List.of(), null,
                null, Optional.empty());
    }

    /**
     * The {@code tid} claim of a JWT in compact form, or empty if the token is not one, or names no
     * tenant. Nothing is verified: it only reads.
     */
    static Optional<String> tenantOf(String accessToken) {
        return JwtPayload.of(accessToken).flatMap(JwtPayload::tenant);
    }
}
