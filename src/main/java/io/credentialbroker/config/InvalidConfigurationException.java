package io.credentialbroker.config;

import java.util.List;

/** The broker's configuration cannot work; the message has one line per problem. */
public class InvalidConfigurationException extends RuntimeException {

    private final List<String> problems;

    public InvalidConfigurationException(List<String> problems) {
        super("credential-broker cannot start, its configuration has " + problems.size() + " problem"
                + (problems.size() == 1 ? "" : "s") + ":\n  - " + String.join("\n  - ", problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }
}
