package io.credentialbroker.token;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import io.credentialbroker.credential.memory.InMemoryCredentialStore;
import io.credentialbroker.environment.Cloud;
import io.credentialbroker.environment.Environment;
import io.credentialbroker.testing.Fixtures;
import io.credentialbroker.testing.TestClock;

/**
 * A rotation's proof and the token cache share the environment's single flight: a proof never runs
 * while the cache mints, and no cache mint starts while a proof runs. The cache's mint thread is a
 * queue the test runs by hand, so "has not started" is a fact, not a wait.
 */
class ProofFlightTest {

    private static final Environment SANDBOX = new Environment("sandbox", Fixtures.SANDBOX.tenant(), Cloud.PUBLIC,
            "partner-center/sandbox", Environment.defaultTokenEndpoint(Cloud.PUBLIC), Cloud.PUBLIC.resource());

    private final TestClock clock = new TestClock();
    private final BlockingQueue<Runnable> mintThread = new LinkedBlockingQueue<>();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger mostAtOnce = new AtomicInteger();
    private final AtomicInteger cacheMints = new AtomicInteger();
    private final TokenCache cache = new TokenCache(SANDBOX, new InMemoryCredentialStore(clock),
            (environment, credential) -> {
                cacheMints.incrementAndGet();
                return flying(ProofFlightTest::issued);
            }, new TokenLifetimePolicy(Duration.ofMinutes(10), Duration.ofMinutes(2), Duration.ofMinutes(10),
                    Duration.ofSeconds(30)),
            new RetryPolicy(0, Duration.ofMillis(10), Duration.ofSeconds(30), Duration.ofSeconds(10)), clock,
            mintThread::add, TokenCacheObserver.NONE);

    @Test
    @DisplayName("case 17: a caller on a cold cache during a proof waits for it, then gets the mint the proof's end starts; never two requests at once")
    void aCacheMintWaitsForAProof() throws Exception {
        CountDownLatch proofSent = new CountDownLatch(1);
        CountDownLatch answerProof = new CountDownLatch(1);
        CompletableFuture<MintResult> proof = CompletableFuture.supplyAsync(() -> cache.prove(() -> flying(() -> {
            proofSent.countDown();
            waitFor(answerProof);
            return issued();
        })));
        assertThat(proofSent.await(5, TimeUnit.SECONDS)).isTrue();

        CompletableFuture<TokenGrant> caller = cache.grant();

        assertThat(mintThread).as("no cache mint started while the proof runs").isEmpty();
        assertThat(cache.status().state()).isEqualTo(TokenStatus.State.UNAVAILABLE);
        answerProof.countDown();
        assertThat(proof.get(5, TimeUnit.SECONDS)).isInstanceOf(MintResult.Issued.class);
        mintThread.poll(5, TimeUnit.SECONDS).run();
        assertThat(caller.get(5, TimeUnit.SECONDS).token().credentialVersion()).isEqualTo(1);
        assertThat(cacheMints).hasValue(1);
        assertThat(mostAtOnce).hasValue(1);
    }

    @Test
    @DisplayName("case 17: a proof waits for the cache's mint in flight, then runs; never two requests at once")
    void aProofWaitsForACacheMint() throws Exception {
        CompletableFuture<TokenGrant> caller = cache.grant();
        Runnable mint = mintThread.poll(5, TimeUnit.SECONDS);
        AtomicBoolean proofRan = new AtomicBoolean();
        Thread prover = new Thread(() -> cache.prove(() -> flying(() -> {
            proofRan.set(true);
            return issued();
        })), "test-prover");
        prover.start();
        await().atMost(Duration.ofSeconds(5)).until(() -> prover.getState() == Thread.State.TIMED_WAITING);

        assertThat(proofRan).as("the proof waits for the flight").isFalse();
        mint.run();
        prover.join(5_000);

        assertThat(proofRan).isTrue();
        assertThat(caller.get(5, TimeUnit.SECONDS).token()).isNotNull();
        assertThat(mostAtOnce).hasValue(1);
        assertThat(mintThread).as("nobody waited on the proof, so it starts no mint").isEmpty();
    }

    private MintResult flying(java.util.function.Supplier<MintResult> request) {
        mostAtOnce.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
        try {
            return request.get();
        } finally {
            inFlight.decrementAndGet();
        }
    }

    private static MintResult issued() {
        return new MintResult.Issued("fake-token-" + UUID.randomUUID(), Duration.ofHours(1), Optional.empty());
    }

    private static void waitFor(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
