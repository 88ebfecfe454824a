package io.credentialbroker.credential;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ClientSecretTest {

    @Test
    @DisplayName("case 35: toString is redacted")
    void redactsItself() {
        assertThat(new ClientSecret("fake-secret-value-0123456789")).hasToString("ClientSecret[redacted]");
    }

    @Test
    void hintsWithTheFirstThreeCharacters() {
        assertThat(new ClientSecret("Q~8fake-secret-value-0123456789").hint()).isEqualTo("Q~8…");
    }

    @Test
    @DisplayName("a secret too short to spare three characters shows none in its hint")
    void hintsNothingOfAShortSecret() {
        assertThat(new ClientSecret("abcdefghijk").hint()).isEqualTo("…");
    }

    @Test
    void acceptsPrintableAsciiWithoutSpacesAsSecretCharacters() {
        assertThat(ClientSecret.hasSecretCharacters("Q~8.abc_DEF-123")).isTrue();
        assertThat(ClientSecret.hasSecretCharacters("with space")).isFalse();
        assertThat(ClientSecret.hasSecretCharacters("tab\there")).isFalse();
        assertThat(ClientSecret.hasSecretCharacters("café")).isFalse();
    }
}
