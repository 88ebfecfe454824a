package io.credentialbroker.token;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Azure AD's throttling of an environment's tenant, shared by everything that asks that tenant for
 * tokens: after a 429 nobody asks again before its {@code Retry-After}, whether the cache or a
 * rotation's proof asked first. Implemented by {@link TokenService}.
 */
public interface TenantThrottle {

    /** No throttling: for code that runs without token caches (tests). */
    TenantThrottle NONE = new TenantThrottle() {

        @Override
        public Optional<Instant> throttledUntil(String environment) {
            return Optional.empty();
        }

        @Override
        public void throttled(String environment, Duration retryAfter) {
        }
    };

    /** When the environment's tenant may be asked again, if Azure AD asked us to stay away. */
    Optional<Instant> throttledUntil(String environment);

    /** Azure AD answered a request for the environment with 429 and this {@code Retry-After}. */
    void throttled(String environment, Duration retryAfter);
}
