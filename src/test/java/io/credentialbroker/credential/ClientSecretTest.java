package io.credentialbroker.credential;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.annotation.JsonAutoDetect.Visibility;
import com.fasterxml.jackson.annotation.PropertyAccessor;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

class ClientSecretTest {

    @Test
    @DisplayName("case 35: toString is redacted")
    void redactsItself() {
        assertThat(new ClientSecret("fake-secret-value-0123456789")).hasToString("ClientSecret[redacted]");
    }

    @Test
    @DisplayName("case 35: a credential's toString and its JSON, with any mapper settings, show neither secret nor hint")
    void redactsACredentialInTextAndJson() throws Exception {
        String secret = "fake-secret-" + UUID.randomUUID();
        PartnerCredential credential = new PartnerCredential("00000000-0000-0000-0000-00000000a11d",
                new ClientSecret(secret), "fake-sandbox.onmicrosoft.com", 3, Instant.parse("2026-11-24T12:00:00Z"));
        ObjectMapper asQuarkus = new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .registerModule(new JavaTimeModule());
        ObjectMapper lenient = asQuarkus.copy().disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);
        ObjectMapper readsFields = lenient.copy().setVisibility(PropertyAccessor.FIELD, Visibility.ANY);

        List<String> forms = new ArrayList<>();
        forms.add(credential.toString());
        forms.add(String.valueOf(List.of(credential)));
        for (ObjectMapper mapper : List.of(asQuarkus, lenient, readsFields)) {
            forms.add(mapper.writeValueAsString(credential));
            forms.add(mapper.writeValueAsString(Map.of("credential", credential)));
            forms.add(mapper.writeValueAsString(credential.clientSecret()));
        }

        for (String form : forms) {
            assertThat(form).doesNotContain(secret, secret.substring(0, 12)).contains("redacted");
        }
        assertThat(asQuarkus.readTree(asQuarkus.writeValueAsString(credential)).path("client_secret").asText())
                .isEqualTo("ClientSecret[redacted]");
        assertThat(credential.toString()).contains("00000000-0000-0000-0000-00000000a11d");
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
