package io.credentialbroker.config;

import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/**
 * Every thread pool the broker makes itself, named and sized in one place (docs/architecture.md,
 * "Threads"). Blocking work (Azure AD and Vault requests) runs here, never on an event loop or a
 * request's worker thread. Threads are daemons named after their job, so a thread dump says who is
 * waiting on what; all pools stop with the application.
 */
@ApplicationScoped
public class BrokerExecutors implements AutoCloseable {

    private final ExecutorService tokenMinting;
    private final ScheduledExecutorService tokenRefreshCheck;
    private final ScheduledExecutorService rotations;
    private final ScheduledExecutorService credentialWatch;

    @Inject
    BrokerExecutors(BrokerConfig config) {
        this(config.threads().tokenMint(), config.threads().rotation());
    }

    /** For tests and callers outside CDI. */
    public BrokerExecutors(int tokenMintThreads, int rotationThreads) {
        if (tokenMintThreads < 1 || rotationThreads < 1) {
            throw new InvalidConfigurationException(List.of("broker.threads.token-mint (" + tokenMintThreads
                    + ") and broker.threads.rotation (" + rotationThreads + ") must be at least 1"));
        }
        ThreadPoolExecutor minting = new ThreadPoolExecutor(tokenMintThreads, tokenMintThreads, 60,
                TimeUnit.SECONDS, new LinkedBlockingQueue<>(), daemonThreads("token-mint"));
        minting.allowCoreThreadTimeOut(true);
        this.tokenMinting = minting;
        this.tokenRefreshCheck = scheduled(1, "token-refresh-check");
        this.rotations = scheduled(rotationThreads, "credential-rotation");
        this.credentialWatch = scheduled(1, "credential-watch");
    }

    /**
     * One mint at a time per environment (single flight), each blocking for at most Azure AD's read
     * timeout and retry pauses; more environments due at once than threads wait in the queue.
     */
    public ExecutorService tokenMinting() {
        return tokenMinting;
    }

    /** The periodic look at every token cache: quick, never blocks. */
    public ScheduledExecutorService tokenRefreshCheck() {
        return tokenRefreshCheck;
    }

    /** Proof attempts, the pauses between them (scheduled, not slept) and the check-and-set writes. */
    public ScheduledExecutorService rotations() {
        return rotations;
    }

    /** The periodic read of each environment's current version in Vault (metadata only). */
    public ScheduledExecutorService credentialWatch() {
        return credentialWatch;
    }

    @PreDestroy
    @Override
    public void close() {
        tokenRefreshCheck.shutdownNow();
        credentialWatch.shutdownNow();
        rotations.shutdownNow();
        tokenMinting.shutdownNow();
    }

    private static ScheduledExecutorService scheduled(int threads, String name) {
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(threads, daemonThreads(name));
        executor.setRemoveOnCancelPolicy(true);
        return executor;
    }

    private static ThreadFactory daemonThreads(String name) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, name + "-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
