package io.credentialbroker.metrics;

import java.util.Set;

import io.credentialbroker.token.MintResult;

/**
 * The {@code error_code} label of an Azure AD answer, from a closed set: each Prometheus label
 * value is a series kept for the process's life, so a misbehaving proxy inventing AADSTS numbers or
 * error strings must not create new ones. What is not known here is counted as {@value #OTHER}.
 */
final class AzureAdErrorLabel {

    static final String OTHER = "other";

    /** The AADSTS codes the broker acts on or operators alert on (docs/upstream-behaviour.md). */
    private static final Set<Integer> KNOWN_CODES = Set.of(7000215, 7000222, 700016, 90002, 90038, 900432, 50196,
            700082, 50173, 50076, 50078, 50079);

    /** OAuth 2.0 errors Azure AD sends, and the minter's own codes for answers without one. */
    private static final Set<String> KNOWN_ERRORS = Set.of("invalid_client", "unauthorized_client",
            "invalid_request", "invalid_grant", "invalid_scope", "temporarily_unavailable", "server_error",
            "malformed_response", "timeout", "connection_failed", "interrupted", "invalid_endpoint", "empty_secret",
            "throttled", "http_error", "tenant_mismatch");

    private AzureAdErrorLabel() {
    }

    static String of(MintResult.Failed failed) {
        return failed.primaryErrorCode()
                .map(code -> KNOWN_CODES.contains(code) ? "AADSTS" + code : OTHER)
                .orElseGet(() -> KNOWN_ERRORS.contains(failed.error()) ? failed.error() : OTHER);
    }
}
