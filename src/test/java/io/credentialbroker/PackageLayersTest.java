package io.credentialbroker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The packages form layers, and every import points down them (docs/architecture.md, "Packages").
 * Flows sit above the domain they use ({@code rotation} above {@code token} and
 * {@code credential}), the HTTP edge above everything, and the shared leaves ({@code config},
 * {@code audit}) at the bottom. A package's adapters ({@code credential.vault},
 * {@code token.azure}) belong to its layer. Read from the import lines of the main sources, so the
 * build fails on any new upward arrow.
 */
class PackageLayersTest {

    /** Top first: a package may import only the packages after it. */
    static final List<String> LAYERS = List.of("api", "consent", "rotation", "access", "health", "metrics", "token",
            "credential",
            "environment", "config", "audit");

    private static final Path SOURCES = Path.of("src/main/java/io/credentialbroker");
    private static final Pattern IMPORT = Pattern.compile("^import (?:static )?io\\.credentialbroker\\.([a-z]+)\\.",
            Pattern.MULTILINE);

    @Test
    @DisplayName("every import of a main source points to a lower layer: no credential -> token, no token -> access, no cycle")
    void importsPointDownOnly() throws IOException {
        assertThat(upwardImports()).isEmpty();
    }

    @Test
    @DisplayName("every package of the main sources has its place in the layers")
    void everyPackageIsALayer() throws IOException {
        try (Stream<Path> packages = Files.list(SOURCES)) {
            assertThat(packages.filter(Files::isDirectory).map(path -> path.getFileName().toString()))
                    .allSatisfy(name -> assertThat(LAYERS).contains(name));
        }
    }

    @Test
    @DisplayName("the check can fail: an import of token from credential is an upward arrow")
    void recognisesAnUpwardImport() {
        assertThat(upward("credential",
                "package io.credentialbroker.credential;\n\nimport io.credentialbroker.token.MintResult;\n"))
                .containsExactly("credential -> token");
        assertThat(upward("token", "import static io.credentialbroker.access.Permission.TOKEN;\n"))
                .containsExactly("token -> access");
        assertThat(upward("token", "import io.credentialbroker.credential.PartnerCredential;\n")).isEmpty();
    }

    private static List<String> upwardImports() throws IOException {
        List<String> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(SOURCES)) {
            for (Path file : files.filter(path -> path.toString().endsWith(".java")).toList()) {
                String from = SOURCES.relativize(file).getName(0).toString();
                for (String arrow : upward(from, Files.readString(file))) {
                    found.add(SOURCES.relativize(file) + ": " + arrow);
                }
            }
        }
        return found;
    }

    private static List<String> upward(String from, String source) {
        List<String> arrows = new ArrayList<>();
        Matcher imported = IMPORT.matcher(source);
        while (imported.find()) {
            String to = imported.group(1);
            if (!to.equals(from) && LAYERS.indexOf(to) <= LAYERS.indexOf(from)) {
                arrows.add(from + " -> " + to);
            }
        }
        return arrows;
    }
}
