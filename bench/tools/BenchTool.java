import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * The bench's helpers, one file run with the JDK's source launcher (no dependencies):
 *
 * <ul>
 * <li>{@code serve PORT_FILE BEARER_FILE MAX_SECONDS [CALLERS_FILE]}: on one loopback port, the stand-ins the broker
 * talks to: Azure AD's token endpoint (counts requests per tenant, with their times), a Vault KV v2
 * read behind Vault's token check, with Kubernetes auth login (any role; the logins are listed under
 * {@code /control/vault-logins}), and a JWKS issuer for callers' JWTs, whose RSA key is made at start; writes a caller JWT to
 * BEARER_FILE, and to CALLERS_FILE one JWT per line for each of {@value #CALLERS} distinct callers
 * ({@link #callerName}). Control under {@code /control/}. Stops by itself after MAX_SECONDS.</li>
 * <li>{@code caller-names}: the {@value #CALLERS} distinct callers' names, comma-separated (a grant's
 * {@code callers}).</li>
 * <li>{@code profile JFR_FILE}: a Markdown summary of a JFR recording's execution samples: the share
 * of samples by family of code (self and inclusive) and the top methods.</li>
 * <li>{@code herd URL BEARER_FILE CONCURRENCY ENV...}: CONCURRENCY simultaneous first requests per
 * environment, one environment after the other; prints the statuses.</li>
 * <li>{@code tenant-config ENV...}: prints each environment's {@code tenant-id} line: the tenant the
 * stand-in's tokens for that environment's domain come from ({@code tid}).</li>
 * <li>{@code schedule LOG LIFETIME_SECONDS}: reads the broker's "Minted a token" lines and prints
 * the refresh schedule: Azure AD requests per hour and how they spread.</li>
 * </ul>
 * Everything is on 127.0.0.1; every credential and token is made up at run time and obviously fake.
 */
public final class BenchTool {

    static final String ISSUER = "https://bench-issuer.credential-broker.invalid";
    static final String CALLER = "system:serviceaccount:bench:load";
    /** How many distinct callers the second load shape has, each with its own JWT. */
    static final int CALLERS = 1000;
    static final Pattern TOKEN_PATH = Pattern.compile("^/([^/]+)/oauth2/v2\\.0/token$");
    static final Pattern VAULT_READ = Pattern.compile("^/v1/secret/data/partner-center/([a-z0-9-]+)$");
    static final Pattern VAULT_LOGIN = Pattern.compile("^/v1/auth/(.+)/login$");
    static final Pattern JSON_ROLE = Pattern.compile("\"role\"\\s*:\\s*\"([^\"]*)\"");
    static final Pattern JSON_JWT = Pattern.compile("\"jwt\"\\s*:\\s*\"([^\"]+)\"");
    /** The Vault token the bench's brokers are configured with; Kubernetes logins get others. */
    static final String BENCH_VAULT_TOKEN = "fake-bench-vault-token";

    /** The domain the stand-in's Vault stores for an environment. */
    static String domainOf(String environment) {
        return "fake-" + environment + ".onmicrosoft.com";
    }

    /** The made-up tenant ID of a domain: the same on every run, different for every domain. */
    static String tenantOf(String domain) {
        return UUID.nameUUIDFromBytes(("tenant:" + domain).getBytes(StandardCharsets.UTF_8)).toString();
    }

    static String fakeJwt(String domain, long serial) {
        Base64.Encoder base64 = Base64.getUrlEncoder().withoutPadding();
        String header = base64.encodeToString("{\"typ\":\"JWT\",\"alg\":\"none\"}".getBytes(StandardCharsets.UTF_8));
        String tid = tenantOf(domain);
        String payload = "{\"aud\":\"https://api.partnercenter.microsoft.com\",\"iss\":\"https://sts.windows.net/" + tid
                + "/\",\"tid\":\"" + tid + "\",\"idtyp\":\"app\",\"uti\":\"fake-bench-token-" + serial
                + "\",\"padding\":\"" + "x".repeat(900) + "\"}";
        return header + "." + base64.encodeToString(payload.getBytes(StandardCharsets.UTF_8)) + ".fake-bench-signature";
    }

    public static void main(String[] args) throws Exception {
        switch (args.length == 0 ? "" : args[0]) {
            case "serve" -> serve(Path.of(args[1]), Path.of(args[2]), Long.parseLong(args[3]),
                    args.length > 4 ? Path.of(args[4]) : null);
            case "caller-names" -> System.out.println(String.join(",",
                    java.util.stream.IntStream.rangeClosed(1, CALLERS).mapToObj(BenchTool::callerName).toList()));
            case "profile" -> Profile.summarise(Path.of(args[1]));
            case "herd" -> herd(args[1], Files.readString(Path.of(args[2])).trim(), Integer.parseInt(args[3]),
                    List.of(args).subList(4, args.length));
            case "schedule" -> schedule(Path.of(args[1]), Long.parseLong(args[2]));
            case "tenant-config" -> List.of(args).subList(1, args.length)
                    .forEach(environment -> System.out.println("broker.environments." + environment + ".tenant-id="
                            + tenantOf(domainOf(environment))));
            default -> {
                System.err.println("usage: serve PORT_FILE BEARER_FILE MAX_SECONDS [CALLERS_FILE]"
                        + " | herd URL BEARER_FILE N ENV... | schedule LOG LIFETIME_SECONDS | tenant-config ENV..."
                        + " | caller-names | profile JFR_FILE");
                System.exit(2);
            }
        }
    }

    // ---------------------------------------------------------------- stand-ins

    static final Map<String, AtomicInteger> TOKEN_REQUESTS = new ConcurrentHashMap<>();
    static final ConcurrentLinkedQueue<String> TOKEN_LOG = new ConcurrentLinkedQueue<>();
    static final AtomicLong LIFETIME_SECONDS = new AtomicLong(3599);
    static final AtomicLong DELAY_MILLIS = new AtomicLong(0);
    static final AtomicLong ISSUED = new AtomicLong();
    static final AtomicLong VAULT_READS = new AtomicLong();
    static final ConcurrentLinkedQueue<String> VAULT_LOGINS = new ConcurrentLinkedQueue<>();
    static final Map<String, Boolean> VAULT_TOKENS = new ConcurrentHashMap<>(Map.of(BENCH_VAULT_TOKEN, true));
    static final AtomicInteger IN_FLIGHT = new AtomicInteger();
    static final AtomicInteger MAX_IN_FLIGHT = new AtomicInteger();

    /** The name of the second load shape's caller number {@code n} (from 1). */
    static String callerName(int n) {
        return String.format("system:serviceaccount:bench:caller-%04d", n);
    }

    static void serve(Path portFile, Path bearerFile, long maxSeconds, Path callersFile) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        KeyPair keys = generator.generateKeyPair();
        String kid = UUID.randomUUID().toString();
        String jwks = jwks((RSAPublicKey) keys.getPublic(), kid);

        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1024);
        ExecutorService pool = Executors.newFixedThreadPool(64);
        server.setExecutor(pool);
        server.createContext("/", exchange -> {
            try {
                route(exchange, jwks);
            } catch (RuntimeException | InterruptedException e) {
                respond(exchange, 500, "{\"error\":\"stand-in failure\"}");
            } finally {
                exchange.close();
            }
        });
        server.start();
        Files.writeString(bearerFile, callerJwt(keys, kid, CALLER, Duration.ofHours(3)));
        if (callersFile != null) {
            StringBuilder lines = new StringBuilder();
            for (int n = 1; n <= CALLERS; n++) {
                lines.append(callerJwt(keys, kid, callerName(n), Duration.ofHours(3))).append('\n');
            }
            Files.writeString(callersFile, lines);
        }
        Files.writeString(portFile, Integer.toString(server.getAddress().getPort()));
        // bounded: stops by itself even if the bench script dies
        Thread.sleep(TimeUnit.SECONDS.toMillis(maxSeconds));
        server.stop(0);
        pool.shutdownNow();
    }

    static void route(HttpExchange exchange, String jwks) throws IOException, InterruptedException {
        String path = exchange.getRequestURI().getPath();
        String method = exchange.getRequestMethod();
        String body;
        try (InputStream in = exchange.getRequestBody()) {
            body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Matcher token = TOKEN_PATH.matcher(path);
        Matcher vault = VAULT_READ.matcher(path);
        Matcher login = VAULT_LOGIN.matcher(path);
        String vaultToken = exchange.getRequestHeaders().getFirst("X-Vault-Token");
        if (method.equals("POST") && token.matches()) {
            String tenant = token.group(1);
            TOKEN_REQUESTS.computeIfAbsent(tenant, ignored -> new AtomicInteger()).incrementAndGet();
            TOKEN_LOG.add(System.currentTimeMillis() + " " + tenant);
            MAX_IN_FLIGHT.accumulateAndGet(IN_FLIGHT.incrementAndGet(), Math::max);
            try {
                long delay = DELAY_MILLIS.get();
                if (delay > 0) {
                    Thread.sleep(delay);
                }
            } finally {
                IN_FLIGHT.decrementAndGet();
            }
            long lifetime = LIFETIME_SECONDS.get();
            // a JWT about as long as a real Partner Center access token (~1.3 kB), naming the tenant of the
            // domain it was asked for (the broker checks tid), unsigned and plainly fake
            String value = fakeJwt(tenant, ISSUED.incrementAndGet());
            respond(exchange, 200, "{\"token_type\":\"Bearer\",\"expires_in\":" + lifetime + ",\"ext_expires_in\":"
                    + lifetime + ",\"access_token\":\"" + value + "\"}");
        } else if (method.equals("POST") && login.matches()) {
            // Kubernetes auth: any role with a service-account JWT gets a token; the log says which
            Matcher role = JSON_ROLE.matcher(body);
            if (!role.find() || role.group(1).isEmpty() || !JSON_JWT.matcher(body).find()) {
                respond(exchange, 400, "{\"errors\":[\"missing role or jwt\"]}");
                return;
            }
            String issued = "fake-login-vault-token-" + UUID.randomUUID();
            VAULT_TOKENS.put(issued, true);
            VAULT_LOGINS.add(login.group(1) + " " + role.group(1));
            respond(exchange, 200, "{\"auth\":{\"client_token\":\"" + issued + "\",\"accessor\":\"" + UUID.randomUUID()
                    + "\",\"policies\":[\"default\"],\"token_policies\":[\"default\"],\"metadata\":{\"role\":\""
                    + role.group(1) + "\"},\"lease_duration\":3600,\"renewable\":true,\"entity_id\":\"\","
                    + "\"token_type\":\"service\",\"orphan\":true,\"num_uses\":0}}");
        } else if (path.startsWith("/v1/") && !path.equals("/v1/sys/health")
                && (vaultToken == null || !VAULT_TOKENS.containsKey(vaultToken))) {
            respond(exchange, 403, "{\"errors\":[\"permission denied\"]}");
        } else if (method.equals("GET") && vault.matches()) {
            VAULT_READS.incrementAndGet();
            String environment = vault.group(1);
            String created = Instant.now().toString();
            respond(exchange, 200, "{\"request_id\":\"" + UUID.randomUUID() + "\",\"lease_id\":\"\",\"renewable\":false,"
                    + "\"lease_duration\":0,\"data\":{\"data\":{\"client_id\":\"00000000-0000-4000-8000-000000000000\","
                    + "\"client_secret\":\"fake-bench-secret\",\"domain\":\"" + domainOf(environment) + "\"},\"metadata\":{\"created_time\":\"" + created + "\",\"custom_metadata\":null,"
                    + "\"deletion_time\":\"\",\"destroyed\":false,\"version\":1}},\"wrap_info\":null,\"warnings\":null,"
                    + "\"auth\":null}");
        } else if (path.equals("/v1/sys/health")) {
            respond(exchange, 200, "{\"initialized\":true,\"sealed\":false,\"standby\":false}");
        } else if (path.equals("/openid/v1/jwks")) {
            respond(exchange, 200, jwks);
        } else if (path.equals("/control/token-lifetime")) {
            LIFETIME_SECONDS.set(Long.parseLong(query(exchange)));
            respond(exchange, 200, "{}");
        } else if (path.equals("/control/token-delay")) {
            DELAY_MILLIS.set(Long.parseLong(query(exchange)));
            respond(exchange, 200, "{}");
        } else if (path.equals("/control/token-requests")) {
            // one line per tenant: "tenant count"; the total and the most answered at once first
            StringBuilder out = new StringBuilder();
            int total = TOKEN_REQUESTS.values().stream().mapToInt(AtomicInteger::get).sum();
            out.append("total ").append(total).append('\n');
            out.append("max_in_flight ").append(MAX_IN_FLIGHT.get()).append('\n');
            new TreeMap<>(TOKEN_REQUESTS).forEach((tenant, count) -> out.append(tenant).append(' ')
                    .append(count.get()).append('\n'));
            respond(exchange, 200, out.toString());
        } else if (path.equals("/control/vault-logins")) {
            // one line per Kubernetes login: "mount role"
            respond(exchange, 200, String.join("\n", VAULT_LOGINS) + "\n");
        } else if (path.equals("/control/token-log")) {
            respond(exchange, 200, String.join("\n", TOKEN_LOG) + "\n");
        } else if (path.equals("/control/reset")) {
            TOKEN_REQUESTS.clear();
            TOKEN_LOG.clear();
            MAX_IN_FLIGHT.set(IN_FLIGHT.get());
            respond(exchange, 200, "{}");
        } else {
            respond(exchange, 404, "{\"errors\":[]}");
        }
    }

    static String query(HttpExchange exchange) {
        return exchange.getRequestURI().getQuery();
    }

    static void respond(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    static String jwks(RSAPublicKey key, String kid) {
        return "{\"keys\":[{\"kty\":\"RSA\",\"use\":\"sig\",\"alg\":\"RS256\",\"kid\":\"" + kid + "\",\"n\":\""
                + b64(unsigned(key.getModulus())) + "\",\"e\":\"" + b64(unsigned(key.getPublicExponent())) + "\"}]}";
    }

    static String callerJwt(KeyPair keys, String kid, String caller, Duration lifetime) throws Exception {
        long now = Instant.now().getEpochSecond();
        String header = "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"" + kid + "\"}";
        String claims = "{\"iss\":\"" + ISSUER + "\",\"aud\":[\"credential-broker\"],\"sub\":\"" + caller
                + "\",\"iat\":" + now + ",\"nbf\":" + now + ",\"exp\":" + (now + lifetime.getSeconds())
                + ",\"jti\":\"" + UUID.randomUUID() + "\"}";
        String input = b64(header.getBytes(StandardCharsets.UTF_8)) + "." + b64(claims.getBytes(StandardCharsets.UTF_8));
        Signature rs256 = Signature.getInstance("SHA256withRSA");
        rs256.initSign(keys.getPrivate());
        rs256.update(input.getBytes(StandardCharsets.US_ASCII));
        return input + "." + b64(rs256.sign());
    }

    static byte[] unsigned(BigInteger value) {
        byte[] bytes = value.toByteArray();
        if (bytes.length > 1 && bytes[0] == 0) {
            byte[] trimmed = new byte[bytes.length - 1];
            System.arraycopy(bytes, 1, trimmed, 0, trimmed.length);
            return trimmed;
        }
        return bytes;
    }

    static String b64(byte[] bytes) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    // ---------------------------------------------------------------- cold herd

    static void herd(String baseUrl, String bearer, int concurrency, List<String> environments) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        HttpClient client = HttpClient.newBuilder().executor(pool).connectTimeout(Duration.ofSeconds(10)).build();
        List<CompletableFuture<String>> all = new ArrayList<>();
        long started = System.nanoTime();
        // one environment after the other: each gets its herd while it is still cold
        for (String environment : environments) {
            List<CompletableFuture<String>> herd = new ArrayList<>();
            for (int i = 0; i < concurrency; i++) {
                HttpRequest request = HttpRequest.newBuilder(URI.create(baseUrl + "/v1/environments/" + environment
                        + "/token")).timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer " + bearer)
                        .POST(HttpRequest.BodyPublishers.noBody()).build();
                herd.add(client.sendAsync(request, HttpResponse.BodyHandlers.discarding())
                        .thenApply(response -> environment + " " + response.statusCode())
                        .exceptionally(error -> environment + " error:" + error.getClass().getSimpleName()));
            }
            CompletableFuture.allOf(herd.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
            all.addAll(herd);
        }
        Map<String, Integer> outcomes = new TreeMap<>();
        for (CompletableFuture<String> one : all) {
            outcomes.merge(one.get(), 1, Integer::sum);
        }
        System.out.printf("requests %d in %d ms%n", all.size(), (System.nanoTime() - started) / 1_000_000);
        outcomes.forEach((outcome, count) -> System.out.println("outcome " + outcome + " " + count));
        pool.shutdownNow();
    }

    // ---------------------------------------------------------------- refresh schedule

    static final Pattern MINTED = Pattern.compile(
            "Minted a token for environment '([a-z0-9-]+)'.* expires ([^\\s\",]+), refresh from ([^\\s\",]+)");

    /**
     * For each environment's last minted token: when its refresh falls due, and how long after its
     * mint. Prints requests per hour (each environment refreshes once per period) and the spread of
     * the next refreshes: the span they cover and the most that fall in any 10 s window.
     */
    static void schedule(Path log, long lifetimeSeconds) throws IOException {
        Map<String, Instant[]> last = new TreeMap<>();
        for (String line : Files.readAllLines(log)) {
            Matcher minted = MINTED.matcher(line.strip());
            if (minted.find()) {
                last.put(minted.group(1),
                        new Instant[]{Instant.parse(minted.group(2)), Instant.parse(minted.group(3))});
            }
        }
        if (last.isEmpty()) {
            System.out.println("environments 0");
            return;
        }
        double perHour = 0;
        List<Long> due = new ArrayList<>();
        double minPeriod = Double.MAX_VALUE;
        double maxPeriod = 0;
        for (Instant[] times : last.values()) {
            Instant mintedAt = times[0].minusSeconds(lifetimeSeconds);
            double period = Duration.between(mintedAt, times[1]).toMillis() / 1000.0;
            perHour += 3600.0 / period;
            minPeriod = Math.min(minPeriod, period);
            maxPeriod = Math.max(maxPeriod, period);
            due.add(times[1].toEpochMilli());
        }
        due.sort(Long::compare);
        int densest = 0;
        for (int i = 0, j = 0; i < due.size(); i++) {
            while (due.get(i) - due.get(j) >= 10_000) {
                j++;
            }
            densest = Math.max(densest, i - j + 1);
        }
        System.out.printf("environments %d%n", last.size());
        System.out.printf("requests_per_hour %.1f%n", perHour);
        System.out.printf("refresh_period_s min %.1f max %.1f%n", minPeriod, maxPeriod);
        System.out.printf("next_refreshes_span_s %.1f%n", (due.get(due.size() - 1) - due.get(0)) / 1000.0);
        System.out.printf("max_refreshes_in_any_10s %d%n", densest);
    }

    // ---------------------------------------------------------------- profile summary

    /**
     * Reads a JFR recording's {@code jdk.ExecutionSample} events (Java code on CPU) and prints, as
     * Markdown: the share of samples by family of code, self (the family of the frame on CPU; a frame
     * of the JDK's collections, strings and the like counts for the nearest caller that is not) and
     * inclusive (the family anywhere in the stack), then the top methods by self and by inclusive share.
     */
    static final class Profile {

        /** Class-name prefix → family, first match wins; the order puts the specific before the general. */
        static final String[][] FAMILIES = {
                {"io.credentialbroker.", "broker code"},
                {"com.fasterxml.jackson.core.json.UTF8JsonGenerator", "Jackson writing"},
                {"com.fasterxml.jackson.core.json.WriterBasedJsonGenerator", "Jackson writing"},
                {"com.fasterxml.jackson.databind.ser.", "Jackson writing"},
                {"com.fasterxml.jackson.core.json.ReaderBasedJsonParser", "Jackson parsing"},
                {"com.fasterxml.jackson.core.json.UTF8StreamJsonParser", "Jackson parsing"},
                {"com.fasterxml.jackson.databind.deser.", "Jackson parsing"},
                {"com.fasterxml.jackson.", "Jackson (other)"},
                {"io.quarkus.logging.json.", "logging (formatters, handlers)"},
                {"org.jboss.logmanager.", "logging (formatters, handlers)"},
                {"org.jboss.logging.", "logging (formatters, handlers)"},
                {"java.util.logging.", "logging (formatters, handlers)"},
                {"io.quarkus.oidc.", "quarkus-oidc"},
                {"org.jose4j.", "jose4j (JWT)"},
                {"io.smallrye.jwt.", "smallrye-jwt"},
                {"io.quarkus.security.", "Quarkus security"},
                {"io.quarkus.vertx.http.runtime.security.", "Quarkus security"},
                {"io.quarkus.resteasy.reactive.server.runtime.security.", "Quarkus security"},
                {"io.micrometer.", "Micrometer"},
                {"io.quarkus.micrometer.", "Micrometer"},
                {"io.smallrye.context.", "context propagation"},
                {"io.quarkus.arc.", "ArC (CDI)"},
                {"io.smallrye.mutiny.", "Mutiny"},
                {"org.jboss.resteasy.reactive.", "RESTEasy Reactive"},
                {"io.quarkus.resteasy.reactive.", "RESTEasy Reactive"},
                {"io.quarkus.rest.", "RESTEasy Reactive"},
                {"com.github.benmanes.caffeine.", "Caffeine"},
                {"io.vertx.", "Vert.x and Netty"},
                {"io.netty.", "Vert.x and Netty"},
                {"io.quarkus.vertx.", "Vert.x and Netty"},
                {"sun.security.", "JDK crypto and random"},
                {"java.security.", "JDK crypto and random"},
                {"java.util.UUID", "JDK crypto and random"},
                {"sun.nio.", "JDK I/O"},
                {"java.nio.channels.", "JDK I/O"},
        };

        static String familyOf(String type) {
            for (String[] family : FAMILIES) {
                if (type.startsWith(family[0])) {
                    return family[1];
                }
            }
            if (type.startsWith("java.") || type.startsWith("jdk.") || type.startsWith("sun.")) {
                return null; // the JDK's general-purpose code: counted for its caller
            }
            if (type.startsWith("io.quarkus.") || type.startsWith("io.smallrye.")) {
                return "Quarkus (other)";
            }
            return "other";
        }

        static void summarise(Path recording) throws IOException {
            Map<String, Integer> selfMethods = new java.util.HashMap<>();
            Map<String, Integer> inclusiveMethods = new java.util.HashMap<>();
            Map<String, Integer> selfFamilies = new java.util.HashMap<>();
            Map<String, Integer> inclusiveFamilies = new java.util.HashMap<>();
            int samples = 0;
            try (jdk.jfr.consumer.RecordingFile file = new jdk.jfr.consumer.RecordingFile(recording)) {
                while (file.hasMoreEvents()) {
                    jdk.jfr.consumer.RecordedEvent event = file.readEvent();
                    if (!event.getEventType().getName().equals("jdk.ExecutionSample") || event.getStackTrace() == null) {
                        continue;
                    }
                    List<jdk.jfr.consumer.RecordedFrame> frames = event.getStackTrace().getFrames();
                    if (frames.isEmpty()) {
                        continue;
                    }
                    samples++;
                    java.util.Set<String> methods = new java.util.HashSet<>();
                    java.util.Set<String> families = new java.util.HashSet<>();
                    String self = null;
                    for (jdk.jfr.consumer.RecordedFrame frame : frames) {
                        String type = frame.getMethod().getType().getName();
                        String method = type + "." + frame.getMethod().getName();
                        methods.add(method);
                        String family = familyOf(type);
                        if (family != null) {
                            families.add(family);
                            if (self == null) {
                                self = family;
                            }
                        }
                    }
                    selfFamilies.merge(self == null ? "JDK (no other caller)" : self, 1, Integer::sum);
                    families.forEach(family -> inclusiveFamilies.merge(family, 1, Integer::sum));
                    jdk.jfr.consumer.RecordedFrame top = frames.get(0);
                    selfMethods.merge(top.getMethod().getType().getName() + "." + top.getMethod().getName(), 1,
                            Integer::sum);
                    methods.forEach(method -> inclusiveMethods.merge(method, 1, Integer::sum));
                }
            }
            System.out.printf("%d execution samples (Java code on CPU, every thread).%n%n", samples);
            System.out.println("| family | self | inclusive |");
            System.out.println("| --- | --- | --- |");
            java.util.Set<String> all = new java.util.TreeSet<>(inclusiveFamilies.keySet());
            all.addAll(selfFamilies.keySet());
            final int total = Math.max(1, samples);
            all.stream().sorted((a, b) -> Integer.compare(selfFamilies.getOrDefault(b, 0), selfFamilies.getOrDefault(a, 0)))
                    .forEach(family -> System.out.printf("| %s | %s | %s |%n", family,
                            percent(selfFamilies.getOrDefault(family, 0), total),
                            percent(inclusiveFamilies.getOrDefault(family, 0), total)));
            System.out.printf("%nTop methods by self share:%n%n| method | self |%n| --- | --- |%n");
            top(selfMethods, 15).forEach(entry -> System.out.printf("| `%s` | %s |%n", entry.getKey(),
                    percent(entry.getValue(), total)));
            // the event loop's own frames hold nearly every sample: leave out what holds over 60 %
            System.out.printf("%nTop methods by inclusive share (below 60 %%; thread and event-loop frames left out):%n%n"
                    + "| method | inclusive |%n| --- | --- |%n");
            Map<String, Integer> below = new java.util.HashMap<>();
            inclusiveMethods.forEach((method, count) -> {
                if (count < 0.6 * total) {
                    below.put(method, count);
                }
            });
            top(below, 25).forEach(entry -> System.out.printf("| `%s` | %s |%n", entry.getKey(),
                    percent(entry.getValue(), total)));
        }

        static List<Map.Entry<String, Integer>> top(Map<String, Integer> counts, int n) {
            return counts.entrySet().stream()
                    .sorted((a, b) -> b.getValue() != a.getValue().intValue() ? Integer.compare(b.getValue(), a.getValue())
                            : a.getKey().compareTo(b.getKey()))
                    .limit(n).toList();
        }

        static String percent(int count, int total) {
            return String.format("%.1f %%", 100.0 * count / total);
        }
    }
}
