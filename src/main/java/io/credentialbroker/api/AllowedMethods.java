package io.credentialbroker.api;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

import jakarta.inject.Singleton;
import jakarta.ws.rs.HttpMethod;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.core.Response;

import org.jboss.resteasy.reactive.server.ServerRequestFilter;
import org.jboss.resteasy.reactive.server.core.Deployment;
import org.jboss.resteasy.reactive.server.mapping.RuntimeResource;
import org.jboss.resteasy.reactive.server.util.RuntimeResourceVisitor;

import io.quarkus.resteasy.reactive.server.runtime.ResteasyReactiveRecorder;
import io.vertx.ext.web.RoutingContext;

/**
 * Which methods each path of the API answers, for the {@code Allow} header a 405 must carry (RFC
 * 9110, section 15.5.6) and for the answer to OPTIONS. Read from RESTEasy Reactive's own routing
 * table (the one its dev-mode 404 page lists), never kept by hand: a resource method added later is
 * listed at once.
 */
@Singleton
public class AllowedMethods {

    /** A path template of the routing table and the methods declared for it. */
    private record Route(Pattern path, Set<String> methods) {
    }

    /**
     * Read on first use: RESTEasy Reactive builds its routing table after the beans that serve
     * requests. Reading it twice, on two threads at once, gives the same table.
     */
    private volatile List<Route> routes;

    /**
     * The methods a request's path answers, alphabetically; empty if no resource has that path. The
     * path is the one RESTEasy Reactive routes by: Vert.x's normalised path, where an encoded slash
     * stays encoded ({@code /v1/environments/a%2Fb/token} names an environment {@code a%2Fb}).
     */
    Set<String> at(RoutingContext request) {
        return answered(declaredAt(request.normalizedPath()));
    }

    /** The methods declared at a path, and those RESTEasy Reactive and this class answer with them. */
    private static Set<String> answered(Set<String> declared) {
        if (declared.isEmpty()) {
            return declared;
        }
        Set<String> answered = new TreeSet<>(declared);
        if (declared.contains(HttpMethod.GET)) {
            answered.add(HttpMethod.HEAD); // RESTEasy Reactive serves HEAD with the GET method
        }
        answered.add(HttpMethod.OPTIONS); // by answerOptions
        return answered;
    }

    /**
     * Answers OPTIONS from the same table. Left to itself, RESTEasy Reactive answers OPTIONS on any
     * path below a resource class's path, existing or not, listing every method of that class; here a
     * path that exists lists what it answers, and any other is not found.
     */
    @ServerRequestFilter(preMatching = true)
    Optional<Response> answerOptions(RoutingContext routing) {
        if (routing.request().method() != io.vertx.core.http.HttpMethod.OPTIONS) {
            return Optional.empty(); // every other request: one comparison, nothing built for it
        }
        Set<String> declared = declaredAt(routing.normalizedPath());
        if (declared.isEmpty()) {
            throw new NotFoundException();
        }
        if (declared.contains(HttpMethod.OPTIONS)) {
            return Optional.empty(); // a resource answers OPTIONS there itself
        }
        return Optional.of(Response.ok().allow(answered(declared)).build());
    }

    private Set<String> declaredAt(String path) {
        // as RESTEasy Reactive, which routes /v1/environments/ as /v1/environments
        String trimmed = path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        Set<String> methods = new TreeSet<>();
        for (Route route : routes()) {
            if (route.path().matcher(trimmed).matches()) {
                methods.addAll(route.methods());
            }
        }
        return methods;
    }

    private List<Route> routes() {
        List<Route> read = routes;
        if (read == null) {
            read = readRoutingTable();
            routes = read;
        }
        return read;
    }

    private static List<Route> readRoutingTable() {
        Map<String, Set<String>> methodsByTemplate = new TreeMap<>();
        Deployment deployment = ResteasyReactiveRecorder.getCurrentDeployment();
        RuntimeResourceVisitor.visitRuntimeResources(deployment.getPrefix(), deployment.getClassMappers(),
                new RuntimeResourceVisitor() {

                    @Override
                    public void visitRuntimeResource(String httpMethod, String template, RuntimeResource resource) {
                        methodsByTemplate.computeIfAbsent(template, any -> new TreeSet<>()).add(httpMethod);
                    }
                });
        return methodsByTemplate.entrySet().stream()
                .map(entry -> new Route(pattern(entry.getKey()), Set.copyOf(entry.getValue()))).toList();
    }

    /**
     * A JAX-RS path template as a pattern: {@code {name}} is one path segment, {@code {name: regex}}
     * the regex, and the rest literal.
     */
    static Pattern pattern(String template) {
        StringBuilder regex = new StringBuilder();
        int at = 0;
        while (at < template.length()) {
            int open = template.indexOf('{', at);
            if (open < 0) {
                regex.append(Pattern.quote(template.substring(at)));
                break;
            }
            regex.append(Pattern.quote(template.substring(at, open)));
            int close = closingBrace(template, open);
            String parameter = template.substring(open + 1, close);
            int colon = parameter.indexOf(':');
            regex.append(colon < 0 ? "[^/]+" : "(?:" + parameter.substring(colon + 1).trim() + ")");
            at = close + 1;
        }
        return Pattern.compile(regex.toString());
    }

    /** A parameter's regex may hold braces of its own ({@code {id: [0-9]{4}}}). */
    private static int closingBrace(String template, int open) {
        int depth = 0;
        for (int i = open; i < template.length(); i++) {
            char c = template.charAt(i);
            if (c == '{') {
                depth++;
            } else if (c == '}' && --depth == 0) {
                return i;
            }
        }
        throw new IllegalArgumentException("Unbalanced braces in path template " + template);
    }
}
