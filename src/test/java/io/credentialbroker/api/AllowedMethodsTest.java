package io.credentialbroker.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/**
 * Path templates read as RESTEasy Reactive routes them; the routing table itself is tested over
 * HTTP.
 */
class AllowedMethodsTest {

    @Test
    void aParameterIsOneSegment() {
        Pattern token = AllowedMethods.pattern("/v1/environments/{environment}/token");

        assertThat(token.matcher("/v1/environments/sandbox/token").matches()).isTrue();
        assertThat(token.matcher("/v1/environments/sand%2Fbox/token").matches()).isTrue();
        assertThat(token.matcher("/v1/environments/sand/box/token").matches()).isFalse();
        assertThat(token.matcher("/v1/environments//token").matches()).isFalse();
        assertThat(token.matcher("/v1/environments/sandbox/token/extra").matches()).isFalse();
    }

    @Test
    void aParameterWithARegexTakesWhatItsRegexTakes() {
        Pattern rotation = AllowedMethods.pattern("/rotations/{id: [0-9a-f]{4}}.json");

        assertThat(rotation.matcher("/rotations/0a1b.json").matches()).isTrue();
        assertThat(rotation.matcher("/rotations/0a1b2.json").matches()).isFalse();
        assertThat(rotation.matcher("/rotations/0a1bxjson").matches()).isFalse();
    }
}
