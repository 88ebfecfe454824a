package io.credentialbroker.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * The broker's own configuration, all under {@code broker.}; connections to Vault and to the
 * callers' issuer use the ecosystem's keys ({@code quarkus.vault.*}, {@code quarkus.oidc.*}). Every
 * key can be set as an environment variable ({@code BROKER_ENVIRONMENTS_SANDBOX_CLOUD}).
 */
@ConfigMapping(prefix = "broker")
public interface BrokerConfig {

    /** The Partner Center accounts served, by the name callers use. At least one. */
    Map<String, EnvironmentConfig> environments();

    VaultConfig vault();

    TokenConfig token();

    AuthConfig auth();

    /**
     * Who may do what where, by grant name (a label for operators). Default deny: a caller no grant
     * names can do nothing.
     */
    Map<String, GrantConfig> grants();

    RateLimitConfig rateLimit();

    HealthConfig health();

    /** What the Kubernetes probes wait for and tolerate. */
    interface HealthConfig {

        /**
         * The startup probe turns UP at the latest this long after start, even if Vault or Azure AD has not
         * answered the warm-up: the pod then starts, unready, rather than being killed.
         */
        @WithDefault("60S")
        Duration startupTimeout();

        /** An event loop or the worker pool silent this long fails liveness: the process is wedged. */
        @WithDefault("10S")
        Duration stallThreshold();
    }

    /**
     * How callers are identified. Their bearer JWTs are verified by quarkus-oidc against the issuer
     * configured under {@code quarkus.oidc.*} (in Kubernetes, the cluster's service-account issuer).
     */
    interface AuthConfig {

        /**
         * Off only in the {@code dev} profile, where every request acts as a caller with every grant; any
         * other profile refuses to start with it off.
         */
        @WithDefault("true")
        boolean enabled();

        /** The claim that names the caller, e.g. {@code sub = system:serviceaccount:billing:api}. */
        @WithDefault("sub")
        String subjectClaim();

        VerifiedTokenCacheConfig verifiedTokenCache();
    }

    /**
     * Remembers callers' bearer tokens once verified, until their own expiry or {@code max-age},
     * whichever comes first, so the signature is not checked again on every request (see
     * {@code io.credentialbroker.access.VerifiedTokenCache}).
     */
    interface VerifiedTokenCacheConfig {

        /** Verifying an RS256 signature costs several times more than serving a cached token. */
        @WithDefault("true")
        boolean enabled();

        /** Distinct bearer tokens remembered at once: a few per calling pod is plenty. */
        @WithDefault("10000")
        int maxEntries();

        /**
         * The longest a verified token is recognised without being verified again, whatever {@code exp} it
         * carries: a token from an issuer that signs long-lived tokens, or whose key was withdrawn, is
         * checked against the issuer's current keys at least this often. Short enough to bound that window,
         * long enough that re-verifying (one RS256 check per token per period) costs nothing.
         */
        @WithDefault("5M")
        Duration maxAge();
    }

    /** One grant: these callers may do these things in these environments. */
    interface GrantConfig {

        /** Exact caller names, as the subject claim gives them. */
        List<String> callers();

        /** Environment names, or {@code *} for every configured environment. */
        List<String> environments();

        /** {@code token} (get tokens) and/or {@code credentials} (read and rotate credentials). */
        List<String> permissions();
    }

    /** Per-caller limits on the token endpoint, so one noisy caller cannot starve the others. */
    interface RateLimitConfig {

        /** Sustained token requests per second per caller. */
        @WithDefault("100")
        double tokenRequestsPerSecond();

        /** Requests a caller may make at once above the sustained rate. */
        @WithDefault("200")
        int tokenBurst();
    }

    RotationConfig rotation();

    AppUserConfig appUser();

    ThreadsConfig threads();

    /** The sizes of the broker's own thread pools (see {@code BrokerExecutors}). */
    interface ThreadsConfig {

        /**
         * Token mints running at once, across environments (each environment mints one at a time). Each
         * blocks for at most Azure AD's read timeout; more environments due together wait their turn.
         */
        @WithDefault("16")
        int tokenMint();

        /** Proof attempts and writes of rotations running at once (one rotation per environment). */
        @WithDefault("4")
        int rotation();
    }

    /** One environment. Its values are checked at startup by the environment registry. */
    interface EnvironmentConfig {

        /**
         * The Entra tenant ID (a GUID) of the environment's Partner Center account. Required: every token
         * minted for the environment must carry it as {@code tid}, or it is refused
         * ({@code tenant_mismatch}), so a credential of another account stored under this name can never be
         * served as this one.
         */
        Optional<String> tenantId();

        /** {@code public}, {@code usgov} or {@code china}: sets the authority and the resource. */
        @WithDefault("public")
        String cloud();

        /**
         * The secret's path below {@code broker.vault.kv-mount}; defaults to {@code partner-center/<name>}.
         */
        Optional<String> vaultPath();

        /**
         * Overrides the cloud's v2 token endpoint, with {@code {domain}} standing for the tenant: for v1
         * endpoints ({@code .../oauth2/token}), egress proxies and tests. https only, but for loopback.
         */
        Optional<String> tokenEndpoint();

        /** Overrides the cloud's Partner Center resource. */
        Optional<String> resource();

        /** The environment's app+user tokens. */
        EnvironmentAppUserConfig appUser();
    }

    /** One environment's app+user tokens. */
    interface EnvironmentAppUserConfig {

        /**
         * Refuse app+user tokens whose user did not sign in with multifactor authentication (the token's
         * {@code amr} has no {@code mfa}): Partner Center refuses such calls from 1 April 2026.
         */
        @WithDefault("true")
        boolean requireMfa();
    }

    /**
     * App+user tokens (Partner Center's Secure Application Model): a refresh token an admin agent
     * granted once, kept in Vault beside each environment's credential and exchanged for tokens that
     * act as that person.
     */
    interface AppUserConfig {

        /**
         * The longest the refresh token goes unexchanged, callers or not: Entra expires one unused for 90
         * days.
         */
        @WithDefault("7D")
        Duration keepAlive();

        /**
         * How often each replica re-reads each environment's app+user record (one Vault read), to report
         * and keep alive a consent another replica installed or exchanged.
         */
        @WithDefault("5M")
        Duration checkInterval();

        /**
         * Where Azure AD sends the admin agent's browser back after consent: this broker's
         * {@code /v1/app-user/callback}, as registered on the app. The default suits
         * {@code kubectl port-forward} to port 8080.
         */
        @WithDefault("http://localhost:8080/v1/app-user/callback")
        String redirectUri();

        /** How long a consent started by ops may take to come back to the callback. */
        @WithDefault("10M")
        Duration consentTimeout();
    }

    interface VaultConfig {

        /** The KV v2 mount holding the credentials. */
        @WithDefault("secret")
        String kvMount();

        /**
         * The longest one Vault read may take in all, login, retries and their pauses included, and one
         * write; past it the call counts as failed and further calls are paced as after a failed login.
         */
        @WithDefault("5S")
        Duration timeout();
    }

    /**
     * How tokens are cached and refreshed. A token is handed out only while it has more than
     * {@code min-remaining} left after {@code clock-skew}; the cache starts replacing it
     * {@code refresh-before} its expiry (or at Azure AD's {@code refresh_in}), so callers keep getting
     * the old one while the new one is minted. {@code refresh-before} should be well above
     * {@code min-remaining}: the gap is how long Azure AD may fail before callers notice.
     */
    interface TokenConfig {

        /** Start refreshing this long before expiry when Azure AD sends no {@code refresh_in}. */
        @WithDefault("10M")
        Duration refreshBefore();

        /** Never hand out a token with less life than this; the caller needs time to use it. */
        @WithDefault("2M")
        Duration minRemaining();

        /** The longest {@code expires_in} told to callers, so they come back before a rotation matters. */
        @WithDefault("10M")
        Duration maxClientTtl();

        /** Subtracted from every token's life: clocks of Azure AD, the broker and callers differ. */
        @WithDefault("30S")
        Duration clockSkew();

        /** Retries of one mint after a 5xx, timeout or reset (at most 2: docs/upstream-behaviour.md). */
        @WithDefault("2")
        int maxRetries();

        /** The first retry waits about this long (jittered, doubling). */
        @WithDefault("250MS")
        Duration retryBackoff();

        /**
         * After a mint fails for good, no new attempt for this long (or Azure AD's Retry-After, if longer).
         */
        @WithDefault("30S")
        Duration failureBackoff();

        /** How long a caller waits for a token being minted before getting a 503. */
        @WithDefault("10S")
        Duration maxWait();

        /** How often each cache looks whether its token is due for refresh. */
        @WithDefault("1S")
        Duration checkInterval();

        /** Mint every environment's first token at startup instead of on its first request. */
        @WithDefault("true")
        boolean warmUp();

        /**
         * How many environments warm up at once: a pod serving many environments spreads its first Vault
         * reads and Azure AD requests instead of sending them all in the same instant. A caller asking for
         * an environment still waiting its turn gets its token minted at once, as without warm-up.
         */
        @WithDefault("4")
        int warmUpConcurrency();

        AzureAdConfig azureAd();
    }

    interface AzureAdConfig {

        @WithDefault("2S")
        Duration connectTimeout();

        /** How long Azure AD may take to answer one token request. */
        @WithDefault("5S")
        Duration readTimeout();
    }

    /**
     * How credentials are rotated through the API and how replicas notice a rotation. A rotation proves
     * the new key with a real token request before storing it; Azure AD may take 2-10 minutes to accept
     * a new key, so proving goes on in the background, every {@code retry-interval} (jittered), until
     * {@code proof-timeout}, while the old key keeps serving. The {@code PUT} waits up to
     * {@code sync-window} for the outcome before answering 202. Rotations live in the memory of the
     * replica that runs them; every replica notices the stored result within {@code watch-interval}.
     */
    interface RotationConfig {

        /** How long a rotation keeps proving a new key before it fails; Azure AD may need 10 minutes. */
        @WithDefault("10M")
        Duration proofTimeout();

        /** How long a rotation request waits for the proof before answering 202 and proving on. */
        @WithDefault("5S")
        Duration syncWindow();

        /**
         * The pause between proof attempts (jittered between half and all of it), unless Azure AD asks for
         * a longer one with Retry-After. Each attempt is one token request to the tenant.
         */
        @WithDefault("15S")
        Duration retryInterval();

        /**
         * How often each replica reads each environment's {@code current_version} from Vault (metadata
         * only) to pick up a credential another replica or an operator stored.
         */
        @WithDefault("30S")
        Duration watchInterval();

        /** How long a finished rotation can still be looked up by its id. */
        @WithDefault("1H")
        Duration retention();
    }
}
