package io.credentialbroker.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import jakarta.inject.Inject;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.MultivaluedHashMap;
import jakarta.ws.rs.core.MultivaluedMap;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.credentialbroker.testing.AzureAdStandIn;
import io.credentialbroker.testing.AzureAdStandInResource;
import io.credentialbroker.testing.CallerIssuerResource;
import io.credentialbroker.testing.VaultStandInResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * The token response's hand-written JSON against the application's own Jackson mapper, byte for
 * byte: the contract is what Jackson wrote before the writer existed. The same test resources as
 * TokenEndpointTest, so the two share one application.
 */
@QuarkusTest
@WithTestResource(AzureAdStandInResource.class)
@WithTestResource(CallerIssuerResource.class)
@WithTestResource(VaultStandInResource.class)
class TokenResponseWriterTest {

    /** Built at test time: an unsigned, obviously fake JWT, as the Azure AD stand-in issues them. */
    private static final String JWT = AzureAdStandIn.jwt("{\"aud\":\"https://api.partnercenter.microsoft.com\"}")
            + "-_";
    private static final String RESOURCE = "https://api.partnercenter.microsoft.com";

    @Inject
    ObjectMapper mapper;

    private final TokenResponseWriter writer = new TokenResponseWriter();

    @Test
    @DisplayName("an app-only and an app+user response: the same bytes as Jackson")
    void writesWhatJacksonWrites() throws IOException {
        List<TokenResponse> responses = List.of(
                new TokenResponse("sandbox", TokenResponse.APP, "Bearer", JWT, 3000,
                        Instant.parse("2026-11-24T12:05:00Z"), RESOURCE, 3),
                new TokenResponse("primary", TokenResponse.APP_USER, "Bearer", JWT + "x", 59,
                        Instant.parse("2026-11-24T12:05:00.120Z"), RESOURCE, 12),
                new TokenResponse("sandbox", TokenResponse.APP, "Bearer", JWT, 0,
                        Instant.ofEpochSecond(1_795_000_000L, 123_456_789), RESOURCE, Integer.MAX_VALUE),
                new TokenResponse("sandbox", TokenResponse.APP, "Bearer", JWT, -1, Instant.EPOCH, RESOURCE, 0));
        for (TokenResponse response : responses) {
            assertSameAsJackson(response);
        }
    }

    @Test
    @DisplayName("characters JSON must escape, control characters, non-ASCII and surrogates: the same bytes as Jackson")
    void escapesAsJacksonDoes() throws IOException {
        String awkward = "a\"b\\c/d\b\t\n\f\r\u0000\u0001\u001f\u007f é€ 😀 <>&' lone \ud800 surrogate";
        assertSameAsJackson(new TokenResponse("env \"quoted\"", TokenResponse.APP_USER, "Bearer", awkward, 1,
                Instant.parse("2026-01-01T00:00:00Z"), "https://example.invalid/\u00e9", 1));
    }

    @Test
    @DisplayName("a missing value is written as null, as Jackson writes it")
    void writesNullsAsJacksonDoes() throws IOException {
        assertSameAsJackson(new TokenResponse("sandbox", TokenResponse.APP, null, null, 1, null, null, 1));
    }

    @Test
    @DisplayName("a refreshed token is written, never its predecessor's kept bytes")
    void writesTheRefreshedToken() throws IOException {
        Instant expiresAt = Instant.parse("2026-11-24T12:05:00Z");
        TokenResponse first = new TokenResponse("sandbox", TokenResponse.APP, "Bearer", JWT + "1", 60, expiresAt,
                RESOURCE, 1);
        TokenResponse refreshed = new TokenResponse("sandbox", TokenResponse.APP, "Bearer", JWT + "2", 60, expiresAt,
                RESOURCE, 2);
        TokenResponse appUser = new TokenResponse("sandbox", TokenResponse.APP_USER, "Bearer", JWT + "3", 60,
                expiresAt, RESOURCE, 2);

        // the same token twice (its kept bytes), then a new one for the same environment and kind,
        // and another kind of the same environment in between
        assertSameAsJackson(first);
        assertSameAsJackson(first);
        assertSameAsJackson(appUser);
        assertSameAsJackson(refreshed);
        assertSameAsJackson(appUser);
        assertSameAsJackson(first);
    }

    @Test
    @DisplayName("expires_at kept from one response to the next is rewritten whenever it moves, back, forward or to null")
    void writesEachExpiryAsJacksonDoes() throws IOException {
        Instant second = Instant.parse("2026-11-24T12:05:00Z");
        List<Instant> expiries = Arrays.asList(second, second, second.plusSeconds(1), second.plusSeconds(1), second,
                null, second.plusNanos(1), second.plusMillis(1), null, second);
        for (Instant expiresAt : expiries) {
            assertSameAsJackson(new TokenResponse("sandbox", TokenResponse.APP, "Bearer", JWT, 60, expiresAt,
                    RESOURCE, 1));
        }
        // another environment and kind keep their own: interleaved, neither is written with the other's
        assertSameAsJackson(new TokenResponse("primary", TokenResponse.APP_USER, "Bearer", JWT, 60,
                second.plusSeconds(7), RESOURCE, 1));
        assertSameAsJackson(new TokenResponse("sandbox", TokenResponse.APP, "Bearer", JWT, 60, second, RESOURCE,
                1));
    }

    @Test
    @DisplayName("numbers at their limits and around each power of ten: the same digits as Jackson")
    void writesNumbersAsJacksonDoes() throws IOException {
        List<Long> numbers = List.of(0L, 1L, 9L, 10L, 99L, 100L, -1L, -9L, -10L, 1_000_000_007L, Long.MAX_VALUE,
                Long.MIN_VALUE, Long.MIN_VALUE + 1, (long) Integer.MAX_VALUE, (long) Integer.MIN_VALUE);
        for (long number : numbers) {
            assertSameAsJackson(new TokenResponse("sandbox", TokenResponse.APP, "Bearer", JWT, number,
                    Instant.parse("2026-11-24T12:05:00Z"), RESOURCE, (int) Math.max(Integer.MIN_VALUE,
                            Math.min(Integer.MAX_VALUE, number))));
        }
    }

    @Test
    @DisplayName("every token answer is labelled with its environment and forbids caching, whichever way it is written")
    void labelsEveryAnswer() throws IOException {
        MultivaluedMap<String, Object> headers = new MultivaluedHashMap<>();
        writer.writeTo(new TokenResponse("primary", TokenResponse.APP_USER, "Bearer", JWT, 60,
                Instant.parse("2026-11-24T12:05:00Z"), RESOURCE, 1), TokenResponse.class, TokenResponse.class, null,
                MediaType.APPLICATION_JSON_TYPE, headers, new ByteArrayOutputStream());

        assertThat(headers).containsOnly(Map.entry(TokenResponseWriter.ENVIRONMENT_HEADER, List.of("primary")),
                Map.entry("Cache-Control", List.of("no-store")), Map.entry("Pragma", List.of("no-cache")));
    }

    private void assertSameAsJackson(TokenResponse response) throws IOException {
        ByteArrayOutputStream written = new ByteArrayOutputStream();
        writer.writeTo(response, TokenResponse.class, TokenResponse.class, null, MediaType.APPLICATION_JSON_TYPE,
                null, written);
        String expected = new String(mapper.writeValueAsBytes(response), StandardCharsets.UTF_8);
        assertThat(written.toString(StandardCharsets.UTF_8)).isEqualTo(expected);
        assertThat(written.toByteArray()).isEqualTo(mapper.writeValueAsBytes(response));
    }
}
