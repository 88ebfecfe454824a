package io.credentialbroker.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * A stateful stand-in for the parts of Vault's HTTP API the broker uses (KV v2, Kubernetes and
 * token auth, health), served on loopback with faults tests can inject: it keeps versions,
 * check-and-set and metadata the way Vault's KV v2 engine does, so adapter tests exercise real HTTP
 * and real JSON.
 *
 * <p>
 * Where Vault differs from the summary in docs/upstream-behaviour.md, this follows Vault (from the
 * source of vault-plugin-secrets-kv): reading a deleted or destroyed version answers 404 with the
 * version's metadata and {@code "data": null} (not {@code {"errors":[]}}); a secret's
 * {@code max_versions} in its metadata is 0 until set, the mount's limit (10 by default) applying;
 * {@code oldest_version} stays 0 until the first version falls away; an unknown, revoked or expired
 * token answers 403 with both {@code permission denied} and {@code invalid token}, a policy refusal
 * ({@link #denyNext}) with {@code permission denied} only; {@code sys/health} answers its status
 * body, not {@code errors}.
 *
 * <p>
 * Injected faults (status, denial, delay, dropped connection, malformed JSON) apply to the next
 * requests in arrival order, except {@code /v1/sys/health}, so a probe cannot use them up. Nothing
 * this class prints or records holds a request body or a token.
 */
public final class VaultStandIn implements AutoCloseable {

    /** For the {@code times} of a fault: every request until {@link #reset()}. */
    public static final int ALWAYS = Integer.MAX_VALUE;

    /** The KV v2 mount a Vault dev server starts with; always present. */
    public static final String DEFAULT_MOUNT = "secret";

    /** Vault's limit on versions kept per secret when neither the mount nor the secret sets one. */
    static final int DEFAULT_MAX_VERSIONS = 10;

    private static final String TOKEN_HEADER = "X-Vault-Token";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Pattern POLICY_PATH = Pattern
            .compile("path\\s+\"([^\"]+)\"\\s*\\{\\s*capabilities\\s*=\\s*\\[([^\\]]*)\\]\\s*\\}");
    private static final Pattern QUOTED = Pattern.compile("\"([^\"]*)\"");

    /** One request as it arrived: no headers, no body, so no token and no secret. */
    public record Request(String method, String path, String query) {

        @Override
        public String toString() {
            return method + " " + path + (query == null ? "" : "?" + query);
        }
    }

    private final Clock clock;
    private final String rootToken;
    private final HttpServer server;
    private final ExecutorService executor;
    private final List<Request> journal = new CopyOnWriteArrayList<>();
    private final AtomicInteger threads = new AtomicInteger();

    // Everything below is guarded by this lock; handlers never wait while holding it.
    private final Object lock = new Object();
    private final Map<String, Mount> mounts = new LinkedHashMap<>();
    private final Map<String, IssuedToken> issuedTokens = new LinkedHashMap<>();
    private final Deque<Fault> faults = new ArrayDeque<>();
    /** ACL policies by name, as their path rules. */
    private final Map<String, List<PathRule>> policies = new LinkedHashMap<>();
    /** The policies a Kubernetes role's tokens hold; a role not named here may do anything, as root. */
    private final Map<String, List<String>> rolePolicies = new LinkedHashMap<>();
    private boolean rootTokenValid;
    private boolean sealed;
    private String kubernetesRole;
    private String kubernetesJwt;
    private Duration kubernetesTokenTtl;
    private int delayedRequests;
    private Duration delay = Duration.ZERO;
    /** How the next KV data write is answered: stored and answered late, or lost unstored. */
    private Duration nextWriteAnsweredAfter;
    private boolean nextWriteLost;
    /** The request path those two apply to; null for any KV data write. */
    private String nextWritePath;
    private CountDownLatch release = new CountDownLatch(1);

    private VaultStandIn(Clock clock) throws IOException {
        this.clock = Objects.requireNonNull(clock, "clock");
        this.rootToken = newToken();
        resetState();
        this.executor = Executors.newCachedThreadPool(task -> {
            Thread thread = new Thread(task, "vault-stand-in-" + threads.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(executor);
        server.start();
    }

    /** Starts a stand-in on a free loopback port, with the system clock. */
    public static VaultStandIn start() {
        return start(Clock.systemUTC());
    }

    /** Starts a stand-in whose versions, tokens and health report time from {@code clock}. */
    public static VaultStandIn start(Clock clock) {
        try {
            return new VaultStandIn(clock);
        } catch (IOException e) {
            throw new IllegalStateException("could not bind the Vault stand-in to loopback", e);
        }
    }

    /** The base URL to give a Vault client, e.g. {@code http://127.0.0.1:41234}. */
    public String url() {
        return "http://127.0.0.1:" + port();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /**
     * The token the stand-in accepts on every path, like a root token; generated at start, never
     * printed.
     */
    public String rootToken() {
        return rootToken;
    }

    /** Stops serving; requests held by a delay are released and answered into closed sockets. */
    @Override
    public void close() {
        synchronized (lock) {
            release.countDown();
        }
        server.stop(0);
        executor.shutdownNow();
    }

    /**
     * Back to a fresh, unsealed Vault with an empty {@value #DEFAULT_MOUNT} mount, no faults, no issued
     * tokens, no Kubernetes role and an empty journal; the root token stays the same. A request still
     * in flight (a client retrying one that was dropped or delayed) may arrive after the reset; tests
     * that count requests right after a drop or delay are better served by a fresh stand-in.
     */
    public void reset() {
        synchronized (lock) {
            release.countDown();
            resetState();
        }
        journal.clear();
    }

    private void resetState() {
        mounts.clear();
        mounts.put(DEFAULT_MOUNT, new Mount());
        issuedTokens.clear();
        faults.clear();
        policies.clear();
        rolePolicies.clear();
        rootTokenValid = true;
        sealed = false;
        kubernetesRole = null;
        kubernetesJwt = null;
        kubernetesTokenTtl = Duration.ofHours(1);
        delayedRequests = 0;
        delay = Duration.ZERO;
        nextWriteAnsweredAfter = null;
        nextWriteLost = false;
        nextWritePath = null;
        release = new CountDownLatch(1);
    }

    // ---- seeding and reading state -------------------------------------------------------------

    /** Mounts a KV v2 engine at {@code mount} (no-op if there is one). */
    public void enableKv2(String mount) {
        synchronized (lock) {
            mounts.computeIfAbsent(trimSlashes(mount), name -> new Mount());
        }
    }

    /**
     * Writes a new version as an operator would, mounting {@code mount} if needed; bypasses
     * {@code cas_required}, which only the HTTP API enforces.
     *
     * @return the new version's number
     */
    public int put(String mount, String path, Map<String, ?> data) {
        Map<String, Object> copy = JSON.convertValue(data, new TypeReference<Map<String, Object>>() {
        });
        synchronized (lock) {
            Mount kv = mounts.computeIfAbsent(trimSlashes(mount), name -> new Mount());
            Secret secret = kv.secrets.computeIfAbsent(trimSlashes(path), key -> new Secret());
            return secret.addVersion(copy, clock.instant(), kv.maxVersions).number;
        }
    }

    /** Sets the mount-wide {@code max_versions} (0: Vault's default of 10) and {@code cas_required}. */
    public void configureMount(String mount, int maxVersions, boolean casRequired) {
        synchronized (lock) {
            Mount kv = mounts.computeIfAbsent(trimSlashes(mount), name -> new Mount());
            kv.maxVersions = maxVersions;
            kv.casRequired = casRequired;
        }
    }

    /** Sets one secret's {@code max_versions} (0: the mount's) and {@code cas_required}. */
    public void configureSecret(String mount, String path, int maxVersions, boolean casRequired) {
        synchronized (lock) {
            Mount kv = mounts.computeIfAbsent(trimSlashes(mount), name -> new Mount());
            Secret secret = kv.secrets.computeIfAbsent(trimSlashes(path), key -> new Secret());
            secret.touchMetadata(clock.instant());
            secret.maxVersions = maxVersions;
            secret.casRequired = casRequired;
        }
    }

    /** Soft-deletes versions, as {@code vault kv delete -versions=...} does. */
    public void deleteVersions(String mount, String path, int... versions) {
        synchronized (lock) {
            secret(mount, path).ifPresent(secret -> secret.delete(versions, clock.instant()));
        }
    }

    /** Destroys versions' data for good, as {@code vault kv destroy -versions=...} does. */
    public void destroyVersions(String mount, String path, int... versions) {
        synchronized (lock) {
            secret(mount, path).ifPresent(secret -> secret.destroy(versions));
        }
    }

    /** The secret's {@code current_version}, empty if there is no secret. */
    public OptionalInt currentVersion(String mount, String path) {
        synchronized (lock) {
            return secret(mount, path).map(secret -> OptionalInt.of(secret.currentVersion)).orElse(OptionalInt.empty());
        }
    }

    /**
     * A copy of one version's data, deleted or not; empty if the version fell away, was destroyed or
     * never existed.
     */
    public Optional<Map<String, Object>> data(String mount, String path, int version) {
        synchronized (lock) {
            return secret(mount, path).map(secret -> secret.versions.get(version))
                    .filter(stored -> !stored.destroyed)
                    .map(stored -> JSON.convertValue(stored.data, new TypeReference<Map<String, Object>>() {
                    }));
        }
    }

    private Optional<Secret> secret(String mount, String path) {
        return Optional.ofNullable(mounts.get(trimSlashes(mount)))
                .map(kv -> kv.secrets.get(trimSlashes(path)))
                .filter(secret -> secret.currentVersion > 0);
    }

    // ---- auth ----------------------------------------------------------------------------------

    /**
     * Lets {@code POST /v1/auth/kubernetes/login} succeed for this role and service-account token; any
     * other role answers 400, any other token 403.
     */
    public void acceptKubernetesLogin(String role, String jwt) {
        synchronized (lock) {
            kubernetesRole = Objects.requireNonNull(role, "role");
            kubernetesJwt = Objects.requireNonNull(jwt, "jwt");
        }
    }

    /**
     * The {@code lease_duration} of tokens issued by Kubernetes login and renew-self (1 h by default).
     */
    public void kubernetesTokenTtl(Duration ttl) {
        synchronized (lock) {
            kubernetesTokenTtl = Objects.requireNonNull(ttl, "ttl");
        }
    }

    /**
     * Stores an ACL policy written in Vault's HCL, as {@code vault policy write NAME FILE} does. Only
     * {@code path "..." { capabilities = [...] }} blocks are understood: a path is exact, or ends in
     * {@code *} (a prefix); {@code +} stands for one path segment. Where several match, the exact one
     * wins, else the longest.
     */
    public void writePolicy(String name, String hcl) {
        List<PathRule> rules = new ArrayList<>();
        Matcher block = POLICY_PATH.matcher(hcl);
        while (block.find()) {
            List<String> capabilities = new ArrayList<>();
            Matcher capability = QUOTED.matcher(block.group(2));
            while (capability.find()) {
                capabilities.add(capability.group(1));
            }
            rules.add(new PathRule(block.group(1), Set.copyOf(capabilities)));
        }
        if (rules.isEmpty()) {
            throw new IllegalArgumentException("policy " + name + " has no path rule");
        }
        synchronized (lock) {
            policies.put(name, List.copyOf(rules));
        }
    }

    /**
     * From now on, tokens issued to this Kubernetes role hold exactly these policies (no
     * {@code default} policy, as with {@code token_no_default_policy}): a KV request none of them
     * allows answers 403 {@code permission denied}. Token self-lookup and renewal stay allowed.
     */
    public void bindRolePolicies(String role, String... policyNames) {
        synchronized (lock) {
            rolePolicies.put(role, List.of(policyNames));
        }
    }

    /** Revokes every token issued by login, as their expiry would: they answer 403 invalid token. */
    public void revokeIssuedTokens() {
        synchronized (lock) {
            issuedTokens.clear();
        }
    }

    /** Revokes the root token too, for a static client token that has expired. */
    public void revokeRootToken() {
        synchronized (lock) {
            rootTokenValid = false;
        }
    }

    /** How many login tokens are live now. */
    public int issuedTokenCount() {
        synchronized (lock) {
            Instant now = clock.instant();
            return (int) issuedTokens.values().stream().filter(token -> token.expiresAt.isAfter(now)).count();
        }
    }

    // ---- faults --------------------------------------------------------------------------------

    /**
     * Every path but health answers 503 {@code Vault is sealed}; health reports {@code sealed: true}.
     */
    public void seal() {
        synchronized (lock) {
            sealed = true;
        }
    }

    public void unseal() {
        synchronized (lock) {
            sealed = false;
        }
    }

    /** The next {@code times} requests answer {@code status} with {@code {"errors":[errors...]}}. */
    public void failNext(int times, int status, String... errors) {
        enqueue(new Fault(FaultKind.ANSWER, times, new Answer(status, errors(errors)), false));
    }

    /**
     * The next {@code times} requests that present a token are refused by policy: 403
     * {@code permission denied}. Logins, which present none, pass.
     */
    public void denyNext(int times) {
        enqueue(new Fault(FaultKind.ANSWER, times, new Answer(403, errors("permission denied")), true));
    }

    /**
     * The next {@code times} requests that present a token meet one Vault no longer knows: 403
     * {@code permission denied} and {@code invalid token}. Logins pass, so a client can recover by
     * logging in again.
     */
    public void rejectTokenNext(int times) {
        enqueue(new Fault(FaultKind.ANSWER, times, new Answer(403, errors("permission denied", "invalid token")),
                true));
    }

    /**
     * The next {@code times} requests are read and then the connection is closed without an answer. The
     * JDK HTTP client resends a GET once when this happens on a reused connection, so to make a read
     * fail use {@code times} of 2 or more.
     */
    public void dropConnectionNext(int times) {
        enqueue(new Fault(FaultKind.DROP, times, null, false));
    }

    /**
     * The next {@code times} requests are served, but the JSON body is cut in half (status and
     * Content-Length stay consistent), as a broken proxy would.
     */
    public void malformedJsonNext(int times) {
        enqueue(new Fault(FaultKind.MALFORMED, times, null, false));
    }

    /**
     * The next {@code times} requests wait {@code delay} before being handled; {@link #reset()} and
     * {@link #close()} cut the wait short.
     */
    /**
     * The next write to {@code dataPath} (e.g. {@code /v1/secret/data/partner-center/lab}; writes to
     * other secrets, such as records beside it, pass) is stored at once, but answered only after
     * {@code delay}: a client with a shorter timeout cannot know it landed.
     */
    public void answerNextWriteLate(String dataPath, Duration delay) {
        synchronized (lock) {
            nextWritePath = Objects.requireNonNull(dataPath, "dataPath");
            nextWriteAnsweredAfter = Objects.requireNonNull(delay, "delay");
        }
    }

    /**
     * The next write to {@code dataPath} is read and its connection closed: nothing is stored or
     * answered.
     */
    public void loseNextWrite(String dataPath) {
        synchronized (lock) {
            nextWritePath = Objects.requireNonNull(dataPath, "dataPath");
            nextWriteLost = true;
        }
    }

    public void delayNext(int times, Duration delay) {
        synchronized (lock) {
            this.delayedRequests = requirePositive(times);
            this.delay = Objects.requireNonNull(delay, "delay");
        }
    }

    private void enqueue(Fault fault) {
        synchronized (lock) {
            faults.addLast(fault);
        }
    }

    // ---- journal -------------------------------------------------------------------------------

    /** Every request since the last reset, in arrival order. */
    public List<Request> requests() {
        return List.copyOf(journal);
    }

    /**
     * How many requests with this method reached this path (without query), e.g.
     * {@code /v1/secret/data/a}.
     */
    public long count(String method, String path) {
        return journal.stream().filter(request -> request.method().equals(method) && request.path().equals(path))
                .count();
    }

    /** How many requests of any method reached this path. */
    public long count(String path) {
        return journal.stream().filter(request -> request.path().equals(path)).count();
    }

    @Override
    public String toString() {
        return "VaultStandIn[" + url() + ", requests=" + journal.size() + "]";
    }

    // ---- HTTP ----------------------------------------------------------------------------------

    private void handle(HttpExchange exchange) {
        try {
            URI uri = exchange.getRequestURI();
            String method = exchange.getRequestMethod();
            String path = uri.getPath();
            journal.add(new Request(method, path, uri.getRawQuery()));
            byte[] body = exchange.getRequestBody().readAllBytes();

            boolean probe = path.equals("/v1/sys/health");
            boolean login = path.equals("/v1/auth/kubernetes/login");
            Duration wait = Duration.ZERO;
            CountDownLatch released;
            Fault fault = null;
            synchronized (lock) {
                released = release;
                if (!probe && delayedRequests > 0) {
                    wait = delay;
                    delayedRequests = delayedRequests == ALWAYS ? ALWAYS : delayedRequests - 1;
                }
                if (!probe) {
                    fault = takeFault(login);
                }
            }
            if (!wait.isZero() && released.await(wait.toMillis(), TimeUnit.MILLISECONDS)) {
                // Released by reset or close: the test has moved on; answer nothing.
                return;
            }
            if (fault != null && fault.kind == FaultKind.DROP) {
                return;
            }
            boolean kvWrite = isWrite(method) && path.startsWith("/v1/") && path.contains("/data/");
            Duration answerAfter = null;
            synchronized (lock) {
                kvWrite &= nextWritePath == null || nextWritePath.equals(path);
                if (kvWrite && nextWriteLost) {
                    nextWriteLost = false;
                    return;
                }
                if (kvWrite && nextWriteAnsweredAfter != null) {
                    answerAfter = nextWriteAnsweredAfter;
                    nextWriteAnsweredAfter = null;
                }
            }
            Answer answer = fault != null && fault.kind == FaultKind.ANSWER
                    ? fault.answer
                    : route(method, path, uri.getRawQuery(), exchange.getRequestHeaders().getFirst(TOKEN_HEADER),
                            body);
            if (fault != null && fault.kind == FaultKind.MALFORMED) {
                answer = answer.cutInHalf();
            }
            if (answerAfter != null && released.await(answerAfter.toMillis(), TimeUnit.MILLISECONDS)) {
                return; // released by reset or close: the test has moved on
            }
            send(exchange, method, answer);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            // The client went away; the exchange is closed below.
        } catch (RuntimeException e) {
            // A bug in the stand-in: answer as Vault does when it fails, naming only the exception's class.
            try {
                send(exchange, exchange.getRequestMethod(),
                        new Answer(500, errors("stand-in failure: " + e.getClass().getSimpleName())));
            } catch (IOException | RuntimeException unanswerable) {
                // Headers already sent or client gone: closing below is all that is left.
            }
        } finally {
            // Closing an exchange whose headers were never sent closes the connection: a dropped answer.
            exchange.close();
        }
    }

    private Fault takeFault(boolean login) {
        Fault head = faults.peekFirst();
        if (head == null || login && head.tokenRequestsOnly) {
            return null;
        }
        if (head.remaining != ALWAYS && --head.remaining == 0) {
            faults.removeFirst();
        }
        return head;
    }

    private static void send(HttpExchange exchange, String method, Answer answer) throws IOException {
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        if (answer.body == null) {
            exchange.sendResponseHeaders(answer.status, -1);
            return;
        }
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        if (method.equals("HEAD")) {
            exchange.sendResponseHeaders(answer.status, -1);
            return;
        }
        exchange.sendResponseHeaders(answer.status, answer.body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(answer.body);
        }
    }

    private Answer route(String method, String path, String query, String token, byte[] body) {
        if (!path.startsWith("/v1/")) {
            return new Answer(404, errors());
        }
        String route = path.substring("/v1/".length());
        synchronized (lock) {
            if (route.equals("sys/health")) {
                return health(method);
            }
            if (sealed) {
                return new Answer(503, errors("Vault is sealed"));
            }
            if (route.equals("auth/kubernetes/login")) {
                return isWrite(method) ? kubernetesLogin(body) : unsupported();
            }
            Answer refused = authenticate(token);
            if (refused != null) {
                return refused;
            }
            if (route.equals("auth/token/lookup-self")) {
                return method.equals("GET") || isWrite(method) ? lookupSelf(token) : unsupported();
            }
            if (route.equals("auth/token/renew-self")) {
                return isWrite(method) ? renewSelf(token) : unsupported();
            }
            Answer forbidden = authorize(token, method, route);
            if (forbidden != null) {
                return forbidden;
            }
            return kv(method, route, query, body);
        }
    }

    // ---- sys and auth --------------------------------------------------------------------------

    private Answer health(String method) {
        if (!method.equals("GET") && !method.equals("HEAD")) {
            return unsupported();
        }
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("initialized", true);
        status.put("sealed", sealed);
        status.put("standby", sealed);
        status.put("performance_standby", false);
        status.put("replication_performance_mode", "disabled");
        status.put("replication_dr_mode", "disabled");
        status.put("server_time_utc", clock.instant().getEpochSecond());
        status.put("version", "1.15.6");
        status.put("cluster_name", "vault-stand-in");
        status.put("cluster_id", "00000000-0000-0000-0000-000000000000");
        return new Answer(sealed ? 503 : 200, json(status));
    }

    private Answer authenticate(String token) {
        if (token == null || token.isEmpty()) {
            return new Answer(403, errors("permission denied"));
        }
        if (token.equals(rootToken) ? rootTokenValid : isLive(issuedTokens.get(token))) {
            return null;
        }
        return new Answer(403, errors("permission denied", "invalid token"));
    }

    /** Null if the token's policies allow the request, else Vault's 403 for a policy refusal. */
    private Answer authorize(String token, String method, String route) {
        IssuedToken issued = issuedTokens.get(token);
        List<String> held = issued == null ? null : rolePolicies.get(issued.role);
        if (held == null) {
            return null;
        }
        String needed = capabilityNeeded(method, route);
        PathRule best = null;
        for (String name : held) {
            for (PathRule rule : policies.getOrDefault(name, List.of())) {
                if (rule.matches(route) && (best == null || rule.moreSpecificThan(best))) {
                    best = rule;
                }
            }
        }
        if (best != null && best.capabilities.contains(needed) && !best.capabilities.contains("deny")) {
            return null;
        }
        return new Answer(403, errors("1 error occurred:\n\t* permission denied\n\n"));
    }

    /** What Vault asks of a policy for this request: creating a secret is not updating one. */
    private String capabilityNeeded(String method, String route) {
        return switch (method) {
            case "GET", "HEAD" -> "read";
            case "LIST" -> "list";
            case "DELETE" -> "delete";
            default -> kvSecretExists(route) ? "update" : "create";
        };
    }

    private boolean kvSecretExists(String route) {
        for (Map.Entry<String, Mount> mount : mounts.entrySet()) {
            String dataPrefix = mount.getKey() + "/data/";
            String metadataPrefix = mount.getKey() + "/metadata/";
            String key = route.startsWith(dataPrefix)
                    ? route.substring(dataPrefix.length())
                    : route.startsWith(metadataPrefix) ? route.substring(metadataPrefix.length()) : null;
            if (key != null) {
                Secret secret = mount.getValue().secrets.get(key);
                return secret != null && secret.createdTime != null;
            }
        }
        return true;
    }

    private boolean isLive(IssuedToken token) {
        return token != null && token.expiresAt.isAfter(clock.instant());
    }

    private Answer kubernetesLogin(byte[] body) {
        Map<String, Object> request = parseObject(body);
        if (request == null) {
            return new Answer(400, errors("failed to parse JSON input"));
        }
        Object role = request.get("role");
        Object jwt = request.get("jwt");
        if (!(role instanceof String roleName) || roleName.isEmpty()) {
            return new Answer(400, errors("missing role"));
        }
        if (!(jwt instanceof String jwtValue) || jwtValue.isEmpty()) {
            return new Answer(400, errors("missing jwt"));
        }
        if (!roleName.equals(kubernetesRole)) {
            return new Answer(400, errors("invalid role name \"" + roleName + "\""));
        }
        if (!jwtValue.equals(kubernetesJwt)) {
            return new Answer(403, errors("permission denied"));
        }
        Instant now = clock.instant();
        IssuedToken token = new IssuedToken(newToken(), UUID.randomUUID().toString(), roleName, now,
                now.plus(kubernetesTokenTtl));
        issuedTokens.put(token.value, token);
        return new Answer(200, json(envelope(null, authBlock(token))));
    }

    private Answer lookupSelf(String token) {
        Map<String, Object> data = new LinkedHashMap<>();
        IssuedToken issued = issuedTokens.get(token);
        Instant now = clock.instant();
        if (issued == null) {
            data.put("accessor", "root-accessor");
            data.put("creation_time", now.getEpochSecond());
            data.put("creation_ttl", 0);
            data.put("display_name", "root");
            data.put("entity_id", "");
            data.put("expire_time", null);
            data.put("explicit_max_ttl", 0);
            data.put("id", token);
            data.put("meta", null);
            data.put("num_uses", 0);
            data.put("orphan", true);
            data.put("path", "auth/token/root");
            data.put("policies", List.of("root"));
            data.put("renewable", false);
            data.put("ttl", 0);
            data.put("type", "service");
        } else {
            data.put("accessor", issued.accessor);
            data.put("creation_time", issued.issuedAt.getEpochSecond());
            data.put("creation_ttl", kubernetesTokenTtl.toSeconds());
            data.put("display_name", "kubernetes-" + issued.role);
            data.put("entity_id", "");
            data.put("expire_time", issued.expiresAt.toString());
            data.put("explicit_max_ttl", 0);
            data.put("id", token);
            data.put("issue_time", issued.issuedAt.toString());
            data.put("meta", Map.of("role", issued.role));
            data.put("num_uses", 0);
            data.put("orphan", true);
            data.put("path", "auth/kubernetes/login");
            data.put("policies", List.of("default", issued.role));
            data.put("renewable", true);
            data.put("ttl", Duration.between(now, issued.expiresAt).toSeconds());
            data.put("type", "service");
        }
        return new Answer(200, json(envelope(data, null)));
    }

    private Answer renewSelf(String token) {
        IssuedToken issued = issuedTokens.get(token);
        if (issued == null) {
            // The root token has no TTL to extend.
            return new Answer(400, errors("lease is not renewable"));
        }
        IssuedToken renewed = new IssuedToken(issued.value, issued.accessor, issued.role, issued.issuedAt,
                clock.instant().plus(kubernetesTokenTtl));
        issuedTokens.put(renewed.value, renewed);
        return new Answer(200, json(envelope(null, authBlock(renewed))));
    }

    private Map<String, Object> authBlock(IssuedToken token) {
        Map<String, Object> auth = new LinkedHashMap<>();
        auth.put("client_token", token.value);
        auth.put("accessor", token.accessor);
        auth.put("policies", List.of("default", token.role));
        auth.put("token_policies", List.of("default", token.role));
        auth.put("metadata", Map.of("role", token.role));
        auth.put("lease_duration", kubernetesTokenTtl.toSeconds());
        auth.put("renewable", true);
        auth.put("entity_id", "");
        auth.put("token_type", "service");
        auth.put("orphan", true);
        auth.put("mfa_requirement", null);
        auth.put("num_uses", 0);
        return auth;
    }

    // ---- KV v2 ---------------------------------------------------------------------------------

    private Answer kv(String method, String route, String query, byte[] body) {
        String mountName = mounts.keySet().stream()
                .filter(name -> route.startsWith(name + "/") || route.equals(name))
                .max((a, b) -> Integer.compare(a.length(), b.length()))
                .orElse(null);
        if (mountName == null) {
            return new Answer(404, errors("no handler for route \"" + route + "\". route entry not found."));
        }
        Mount kv = mounts.get(mountName);
        String rest = route.length() == mountName.length() ? "" : route.substring(mountName.length() + 1);
        if (rest.equals("config")) {
            return config(kv, method, body);
        }
        int slash = rest.indexOf('/');
        String operation = slash < 0 ? rest : rest.substring(0, slash);
        String key = slash < 0 ? "" : rest.substring(slash + 1);
        if (key.isEmpty() || key.endsWith("/")) {
            return new Answer(404, errors());
        }
        return switch (operation) {
            case "data" -> data(kv, key, method, query, body);
            case "metadata" -> metadata(kv, key, method, body);
            case "delete" -> isWrite(method)
                    ? versionsOperation(kv, key, body, secret -> secret.delete(versions(body), clock.instant()))
                    : unsupported();
            case "undelete" -> isWrite(method)
                    ? versionsOperation(kv, key, body, secret -> secret.undelete(versions(body)))
                    : unsupported();
            case "destroy" -> isWrite(method)
                    ? versionsOperation(kv, key, body, secret -> secret.destroy(versions(body)))
                    : unsupported();
            default -> new Answer(404, errors());
        };
    }

    private Answer data(Mount kv, String key, String method, String query, byte[] body) {
        switch (method) {
            case "GET" :
                return readData(kv.secrets.get(key), query);
            case "POST", "PUT" :
                return writeData(kv, key, body);
            case "DELETE" :
                Secret secret = kv.secrets.get(key);
                if (secret != null && secret.currentVersion > 0) {
                    secret.delete(new int[]{secret.currentVersion}, clock.instant());
                }
                return new Answer(204, null);
            default :
                return unsupported();
        }
    }

    private Answer readData(Secret secret, String query) {
        if (secret == null || secret.currentVersion == 0) {
            return new Answer(404, errors());
        }
        int number = secret.currentVersion;
        String requested = queryParam(query, "version");
        if (requested != null && !requested.isEmpty()) {
            try {
                int parsed = Integer.parseInt(requested);
                if (parsed > 0) {
                    number = parsed;
                }
            } catch (NumberFormatException e) {
                return new Answer(400, errors("error converting input for field \"version\""));
            }
        }
        Version version = secret.versions.get(number);
        if (version == null) {
            return new Answer(404, errors());
        }
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("data", null);
        data.put("metadata", version.metadata());
        if (version.isDeleted(clock.instant()) || version.destroyed) {
            return new Answer(404, json(envelope(data, null)));
        }
        data.put("data", version.data);
        return new Answer(200, json(envelope(data, null)));
    }

    private Answer writeData(Mount kv, String key, byte[] body) {
        Map<String, Object> request = parseObject(body);
        if (request == null) {
            return new Answer(400, errors("failed to parse JSON input"));
        }
        if (!(request.get("data") instanceof Map<?, ?> rawData)) {
            return new Answer(400, errors("no data provided"));
        }
        Secret existing = kv.secrets.get(key);
        int current = existing == null ? 0 : existing.currentVersion;
        boolean casRequired = kv.casRequired || existing != null && existing.casRequired;
        Object options = request.get("options");
        Object cas = options instanceof Map<?, ?> map ? map.get("cas") : null;
        if (cas != null) {
            Integer expected = parseCas(cas);
            if (expected == null) {
                return new Answer(400, errors("error parsing check-and-set parameter"));
            }
            if (expected != current) {
                return new Answer(400, errors("check-and-set parameter did not match the current version"));
            }
        } else if (casRequired) {
            return new Answer(400, errors("check-and-set parameter required for this call"));
        }
        Map<String, Object> data = JSON.convertValue(rawData, new TypeReference<Map<String, Object>>() {
        });
        Secret secret = kv.secrets.computeIfAbsent(key, absent -> new Secret());
        Version written = secret.addVersion(data, clock.instant(), kv.maxVersions);
        return new Answer(200, json(envelope(written.metadata(), null)));
    }

    private static Integer parseCas(Object cas) {
        if (cas instanceof Number number) {
            return number.intValue();
        }
        if (cas instanceof String text) {
            try {
                return Integer.parseInt(text.trim());
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return null;
    }

    private Answer metadata(Mount kv, String key, String method, byte[] body) {
        switch (method) {
            case "GET" : {
                Secret secret = kv.secrets.get(key);
                if (secret == null || secret.createdTime == null) {
                    return new Answer(404, errors());
                }
                return new Answer(200, json(envelope(secret.metadata(), null)));
            }
            case "POST", "PUT" : {
                Map<String, Object> request = parseObject(body);
                if (request == null) {
                    return new Answer(400, errors("failed to parse JSON input"));
                }
                Secret secret = kv.secrets.computeIfAbsent(key, absent -> new Secret());
                secret.touchMetadata(clock.instant());
                if (request.get("max_versions") instanceof Number max) {
                    secret.maxVersions = max.intValue();
                }
                if (request.get("cas_required") instanceof Boolean required) {
                    secret.casRequired = required;
                }
                return new Answer(204, null);
            }
            case "DELETE" :
                kv.secrets.remove(key);
                return new Answer(204, null);
            default :
                return unsupported();
        }
    }

    private Answer config(Mount kv, String method, byte[] body) {
        if (method.equals("GET")) {
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("cas_required", kv.casRequired);
            data.put("delete_version_after", "0s");
            data.put("max_versions", kv.maxVersions);
            return new Answer(200, json(envelope(data, null)));
        }
        if (!isWrite(method)) {
            return unsupported();
        }
        Map<String, Object> request = parseObject(body);
        if (request == null) {
            return new Answer(400, errors("failed to parse JSON input"));
        }
        if (request.get("max_versions") instanceof Number max) {
            kv.maxVersions = max.intValue();
        }
        if (request.get("cas_required") instanceof Boolean required) {
            kv.casRequired = required;
        }
        return new Answer(204, null);
    }

    /**
     * {@code delete}, {@code undelete} and {@code destroy}: a body naming versions, 204 whatever
     * exists.
     */
    private Answer versionsOperation(Mount kv, String key, byte[] body, Consumer<Secret> operation) {
        Map<String, Object> request = parseObject(body);
        if (request == null) {
            return new Answer(400, errors("failed to parse JSON input"));
        }
        if (versions(body).length == 0) {
            return new Answer(400, errors("no version number provided"));
        }
        Secret secret = kv.secrets.get(key);
        if (secret != null) {
            operation.accept(secret);
        }
        return new Answer(204, null);
    }

    private static int[] versions(byte[] body) {
        Map<String, Object> request = parseObject(body);
        if (request == null || !(request.get("versions") instanceof List<?> list)) {
            return new int[0];
        }
        return list.stream().filter(Number.class::isInstance).mapToInt(v -> ((Number) v).intValue()).toArray();
    }

    // ---- state ---------------------------------------------------------------------------------

    private static final class Mount {

        private final Map<String, Secret> secrets = new LinkedHashMap<>();
        private int maxVersions;
        private boolean casRequired;
    }

    private static final class Secret {

        private final TreeMap<Integer, Version> versions = new TreeMap<>();
        private int currentVersion;
        private int oldestVersion;
        private int maxVersions;
        private boolean casRequired;
        private Instant createdTime;
        private Instant updatedTime;

        void touchMetadata(Instant now) {
            if (createdTime == null) {
                createdTime = now;
            }
            updatedTime = now;
        }

        /** As Vault's KeyMetadata.AddVersion: the secret's limit, else the mount's, else 10. */
        Version addVersion(Map<String, Object> data, Instant now, int mountMaxVersions) {
            currentVersion++;
            Version version = new Version(currentVersion, data, now);
            versions.put(currentVersion, version);
            touchMetadata(now);
            int limit = maxVersions > 0 ? maxVersions : mountMaxVersions > 0 ? mountMaxVersions : DEFAULT_MAX_VERSIONS;
            if (currentVersion - oldestVersion >= limit) {
                int versionToDelete = currentVersion - limit;
                for (int old = oldestVersion; old <= versionToDelete; old++) {
                    versions.remove(old);
                }
                oldestVersion = versionToDelete + 1;
            }
            return version;
        }

        void delete(int[] numbers, Instant now) {
            for (int number : numbers) {
                Version version = versions.get(number);
                if (version != null && !version.destroyed && version.deletionTime == null) {
                    version.deletionTime = now;
                }
            }
        }

        void undelete(int[] numbers) {
            for (int number : numbers) {
                Version version = versions.get(number);
                if (version != null && !version.destroyed) {
                    version.deletionTime = null;
                }
            }
        }

        void destroy(int[] numbers) {
            for (int number : numbers) {
                Version version = versions.get(number);
                if (version != null) {
                    version.destroyed = true;
                    version.data = null;
                }
            }
        }

        Map<String, Object> metadata() {
            Map<String, Object> versionMap = new LinkedHashMap<>();
            versions.forEach((number, version) -> {
                Map<String, Object> entry = new LinkedHashMap<>();
                entry.put("created_time", version.createdTime.toString());
                entry.put("deletion_time", version.deletionTime == null ? "" : version.deletionTime.toString());
                entry.put("destroyed", version.destroyed);
                versionMap.put(Integer.toString(number), entry);
            });
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("cas_required", casRequired);
            data.put("created_time", createdTime.toString());
            data.put("current_version", currentVersion);
            data.put("custom_metadata", null);
            data.put("delete_version_after", "0s");
            data.put("max_versions", maxVersions);
            data.put("oldest_version", oldestVersion);
            data.put("updated_time", updatedTime.toString());
            data.put("versions", versionMap);
            return data;
        }
    }

    private static final class Version {

        private final int number;
        private final Instant createdTime;
        private Map<String, Object> data;
        private Instant deletionTime;
        private boolean destroyed;

        Version(int number, Map<String, Object> data, Instant createdTime) {
            this.number = number;
            this.data = data;
            this.createdTime = createdTime;
        }

        boolean isDeleted(Instant now) {
            return deletionTime != null && !deletionTime.isAfter(now);
        }

        Map<String, Object> metadata() {
            Map<String, Object> metadata = new LinkedHashMap<>();
            metadata.put("created_time", createdTime.toString());
            metadata.put("custom_metadata", null);
            metadata.put("deletion_time", deletionTime == null ? "" : deletionTime.toString());
            metadata.put("destroyed", destroyed);
            metadata.put("version", number);
            return metadata;
        }
    }

    /** One {@code path} block of a policy. */
    private record PathRule(String pattern, Set<String> capabilities) {

        boolean matches(String route) {
            if (pattern.endsWith("*")) {
                return segmentsMatch(pattern.substring(0, pattern.length() - 1), route, true);
            }
            return segmentsMatch(pattern, route, false);
        }

        boolean moreSpecificThan(PathRule other) {
            boolean exact = !pattern.endsWith("*");
            boolean otherExact = !other.pattern.endsWith("*");
            if (exact != otherExact) {
                return exact;
            }
            return pattern.length() > other.pattern.length();
        }

        private static boolean segmentsMatch(String pattern, String route, boolean prefix) {
            int p = 0;
            int r = 0;
            while (p < pattern.length()) {
                char c = pattern.charAt(p);
                if (c == '+' && (p == 0 || pattern.charAt(p - 1) == '/')) {
                    int end = route.indexOf('/', r);
                    if (end == r) {
                        return false;
                    }
                    r = end < 0 ? route.length() : end;
                    p++;
                } else if (r < route.length() && route.charAt(r) == c) {
                    p++;
                    r++;
                } else {
                    return false;
                }
            }
            return prefix || r == route.length();
        }
    }

    private record IssuedToken(String value, String accessor, String role, Instant issuedAt, Instant expiresAt) {

        @Override
        public String toString() {
            return "IssuedToken[role=" + role + ", expiresAt=" + expiresAt + "]";
        }
    }

    private enum FaultKind {
        ANSWER,
        DROP,
        MALFORMED
    }

    private static final class Fault {

        private final FaultKind kind;
        private final Answer answer;
        private final boolean tokenRequestsOnly;
        private int remaining;

        Fault(FaultKind kind, int times, Answer answer, boolean tokenRequestsOnly) {
            this.kind = kind;
            this.remaining = requirePositive(times);
            this.answer = answer;
            this.tokenRequestsOnly = tokenRequestsOnly;
        }
    }

    private record Answer(int status, byte[] body) {

        Answer cutInHalf() {
            if (body == null || body.length < 2) {
                return new Answer(status, "{".getBytes(StandardCharsets.UTF_8));
            }
            return new Answer(status, Arrays.copyOf(body, body.length / 2));
        }
    }

    // ---- JSON ----------------------------------------------------------------------------------

    /** Vault's response envelope, with the fields every answer carries. */
    private static Map<String, Object> envelope(Object data, Object auth) {
        Map<String, Object> envelope = new LinkedHashMap<>();
        envelope.put("request_id", UUID.randomUUID().toString());
        envelope.put("lease_id", "");
        envelope.put("renewable", false);
        envelope.put("lease_duration", 0);
        envelope.put("data", data);
        envelope.put("wrap_info", null);
        envelope.put("warnings", null);
        envelope.put("auth", auth);
        return envelope;
    }

    private static byte[] errors(String... errors) {
        return json(Map.of("errors", List.of(errors)));
    }

    private static Answer unsupported() {
        return new Answer(405, errors("unsupported operation"));
    }

    private static byte[] json(Object value) {
        try {
            return JSON.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("the stand-in built a value Jackson cannot write", e);
        }
    }

    private static Map<String, Object> parseObject(byte[] body) {
        if (body.length == 0) {
            return new LinkedHashMap<>();
        }
        try {
            return JSON.readValue(body, new TypeReference<Map<String, Object>>() {
            });
        } catch (IOException e) {
            return null;
        }
    }

    private static String queryParam(String rawQuery, String name) {
        if (rawQuery == null) {
            return null;
        }
        for (String pair : rawQuery.split("&")) {
            int equals = pair.indexOf('=');
            String key = equals < 0 ? pair : pair.substring(0, equals);
            if (key.equals(name)) {
                return equals < 0 ? "" : pair.substring(equals + 1);
            }
        }
        return null;
    }

    private static boolean isWrite(String method) {
        return method.equals("POST") || method.equals("PUT");
    }

    private static String trimSlashes(String path) {
        String trimmed = path;
        while (trimmed.startsWith("/")) {
            trimmed = trimmed.substring(1);
        }
        while (trimmed.endsWith("/")) {
            trimmed = trimmed.substring(0, trimmed.length() - 1);
        }
        return trimmed;
    }

    private static int requirePositive(int times) {
        if (times < 1) {
            throw new IllegalArgumentException("times must be at least 1");
        }
        return times;
    }

    private static String newToken() {
        byte[] bytes = new byte[18];
        RANDOM.nextBytes(bytes);
        StringBuilder token = new StringBuilder("hvs.");
        for (byte b : bytes) {
            token.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
        }
        return token.toString();
    }
}
