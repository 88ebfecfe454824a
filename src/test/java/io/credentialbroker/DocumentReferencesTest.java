package io.credentialbroker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The repository explains itself: every document a comment, a script or a page refers to is in the
 * tree. A reference to a markdown file (a bare name, a path, or a relative markdown link) must name
 * a file of the repository, and nothing may point into a sibling folder of notes the next
 * maintainer will not have. The design, the upstream behaviour the code relies on and the numbered
 * reliability cases the tests cite live in {@code docs/}.
 */
class DocumentReferencesTest {

    /** What is scanned, from the repository root. */
    private static final List<String> SCANNED = List.of("src", "README.md", "docs", "deploy", "helm", "bench");

    /** Build output and installed tools: not the repository's own text. */
    private static final Set<String> SKIPPED_DIRECTORIES = Set.of("target", "node_modules", "bin", "dist", ".git");

    /** A mention of a markdown file: a name or a relative path ending in the markdown extension. */
    private static final Pattern DOCUMENT_MENTION = Pattern
            .compile("(?<![\\w./$}-])((?:\\.{1,2}/)*(?:[\\w-][\\w.-]*/)*[\\w-][\\w.-]*\\.md)(?![\\w-])");

    /** A markdown link or image: {@code [text](target)}. */
    private static final Pattern MARKDOWN_LINK = Pattern.compile("\\[[^\\]\\n]*]\\(\\s*<?([^)\\s>]+)>?[^)]*\\)");

    /** A URL: what it names is not a file of this repository. */
    private static final Pattern URL = Pattern.compile("[a-zA-Z][a-zA-Z0-9+.-]*://\\S+");

    /** A link target with a scheme ({@code https:}, {@code mailto:}) or only an anchor. */
    private static final Pattern NOT_A_FILE = Pattern.compile("^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|#).*");

    /** The notes folder beside the repository, spelled so this file does not match itself. */
    private static final Pattern OUTSIDE_NOTES = Pattern.compile("\\.\\./shared\\b");

    @Test
    @DisplayName("every document the repository refers to is in the repository")
    void everyReferencedDocumentIsInTheTree() throws IOException {
        Path root = repositoryRoot();
        List<Path> files = textFiles(root);
        List<String> problems = new ArrayList<>();
        for (Path file : files) {
            String text = Files.readString(file, StandardCharsets.UTF_8);
            problems.addAll(problemsIn(root, root.relativize(file), text, files));
        }
        assertThat(problems).as("references to documents that are not in the repository").isEmpty();
    }

    @Test
    @DisplayName("the check finds a missing document, a broken relative link and the notes folder outside")
    void theCheckCanFail() throws IOException {
        Path root = repositoryRoot();
        List<Path> files = textFiles(root);
        // spelled in pieces, so that this file itself holds no such reference
        String bogus = "see " + "notes-nobody-has" + ".md; [the runbook](" + "no-such-page" + ".md#top); and "
                + ".." + "/shared for the rest";
        String fine = "[the chart](../helm/credential-broker/README" + ".md#callers), architecture" + ".md, "
                + "bench/RESULTS" + ".md, [home](/README" + ".md), https://example.com/elsewhere" + ".md, "
                + "$work/generated" + ".md and [the API](#http-api-v1)";

        Path page = Path.of("docs", "example" + ".md");
        List<String> problems = problemsIn(root, page, bogus, files);

        assertThat(String.join("\n", problems)).contains("notes-nobody-has", "link to no-such-page", "outside");
        assertThat(problemsIn(root, page, fine, files)).isEmpty();
    }

    @Test
    @DisplayName("the README's links to the chart, the manifests and the benchmark resolve")
    void readmeLinksResolve() throws IOException {
        Path root = repositoryRoot();
        String readme = Files.readString(root.resolve("README.md"), StandardCharsets.UTF_8);
        List<String> targets = new ArrayList<>();
        Matcher link = MARKDOWN_LINK.matcher(readme);
        while (link.find()) {
            targets.add(link.group(1));
        }
        assertThat(targets).contains("helm/credential-broker/README.md", "deploy/README.md");
        assertThat(problemsIn(root, Path.of("README.md"), readme, textFiles(root))).isEmpty();
    }

    /**
     * @param file
     *            the referring file, relative to {@code root}; relative links resolve from its folder
     * @param tree
     *            every scanned file, where a bare name may be found
     */
    private static List<String> problemsIn(Path root, Path file, String text, List<Path> tree) {
        List<String> problems = new ArrayList<>();
        Path folder = Optional.ofNullable(file.getParent()).orElse(Path.of(""));
        Matcher outside = OUTSIDE_NOTES.matcher(text);
        while (outside.find()) {
            problems.add(file + ":" + line(text, outside.start()) + ": points outside the repository");
        }
        if (file.toString().endsWith(".md")) {
            Matcher link = MARKDOWN_LINK.matcher(text);
            while (link.find()) {
                String target = link.group(1);
                if (NOT_A_FILE.matcher(target).matches()) {
                    continue;
                }
                String path = target.replaceFirst("[#?].*$", "");
                if (path.isEmpty()) {
                    continue;
                }
                Path resolved = path.startsWith("/")
                        ? root.resolve(path.substring(1))
                        : root.resolve(folder).resolve(path);
                if (!inTree(root, resolved)) {
                    problems.add(file + ":" + line(text, link.start()) + ": link to " + target
                            + ", which is not in the repository");
                }
            }
        }
        // URLs blanked out, not removed, so that offsets still give the right line numbers
        Matcher mention = DOCUMENT_MENTION
                .matcher(URL.matcher(text).replaceAll(url -> " ".repeat(url.group().length())));
        while (mention.find()) {
            String name = mention.group(1);
            if (!exists(root, folder, name, tree)) {
                problems.add(file + ":" + line(text, mention.start()) + ": mentions " + name
                        + ", which is not in the repository");
            }
        }
        return problems;
    }

    /**
     * A mention names a file relative to the referring file's folder or to the root, or, for a bare
     * name or a partial path, a file anywhere in the tree whose path ends with it.
     */
    private static boolean exists(Path root, Path folder, String name, List<Path> tree) {
        if (inTree(root, root.resolve(folder).resolve(name)) || inTree(root, root.resolve(name))) {
            return true;
        }
        if (name.startsWith("../") || name.startsWith("./")) {
            return false;
        }
        String suffix = "/" + name;
        return tree.stream().map(path -> "/" + root.relativize(path).toString().replace('\\', '/'))
                .anyMatch(path -> path.endsWith(suffix));
    }

    /** A file of the repository: it exists, and it is not outside the root (a sibling folder). */
    private static boolean inTree(Path root, Path path) {
        Path normalized = path.normalize();
        return normalized.startsWith(root) && Files.exists(normalized);
    }

    private static int line(String text, int offset) {
        int line = 1;
        for (int i = 0; i < offset && i < text.length(); i++) {
            if (text.charAt(i) == '\n') {
                line++;
            }
        }
        return line;
    }

    private static List<Path> textFiles(Path root) {
        List<Path> files = new ArrayList<>();
        for (String entry : SCANNED) {
            Path start = root.resolve(entry);
            if (!Files.exists(start)) {
                continue;
            }
            try (Stream<Path> walk = Files.walk(start)) {
                walk.filter(Files::isRegularFile).filter(path -> !isSkipped(root.relativize(path)))
                        .filter(DocumentReferencesTest::isText).forEach(files::add);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return files;
    }

    private static boolean isSkipped(Path relative) {
        for (Path part : relative) {
            if (SKIPPED_DIRECTORIES.contains(part.toString())) {
                return true;
            }
        }
        return false;
    }

    /** UTF-8 without NUL bytes: binaries (images, archives) are not scanned. */
    private static boolean isText(Path file) {
        try {
            byte[] bytes = Files.readAllBytes(file);
            for (byte b : bytes) {
                if (b == 0) {
                    return false;
                }
            }
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Maven runs tests in the module's folder; the root is where README.md and pom.xml are. */
    private static Path repositoryRoot() {
        Path dir = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath();
        for (Path candidate = dir; candidate != null; candidate = candidate.getParent()) {
            if (Files.exists(candidate.resolve("pom.xml")) && Files.exists(candidate.resolve("README.md"))) {
                return candidate;
            }
        }
        throw new IllegalStateException("no repository root above " + dir);
    }
}
