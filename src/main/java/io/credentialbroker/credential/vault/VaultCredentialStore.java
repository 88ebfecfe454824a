package io.credentialbroker.credential.vault;

import static io.credentialbroker.credential.CredentialStoreException.Reason.UNAVAILABLE;

import java.time.Clock;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Supplier;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.credentialbroker.config.BrokerConfig;
import io.credentialbroker.credential.CredentialMetadata;
import io.credentialbroker.credential.CredentialObserver;
import io.credentialbroker.credential.CredentialStore;
import io.credentialbroker.credential.CredentialStoreException;
import io.credentialbroker.credential.EnvironmentRecords;
import io.credentialbroker.credential.PartnerCredential;
import io.credentialbroker.credential.StoredRecord;
import io.credentialbroker.environment.Environment;
import io.quarkus.arc.DefaultBean;
import io.quarkus.vault.client.VaultClient;
import io.quarkus.vault.client.VaultClientException;

/**
 * The production {@link CredentialStore}: reads and writes each environment's credential in Vault
 * KV v2 with quarkus-vault's low-level client, and turns every way that can fail into a
 * {@link CredentialStoreException} (or, for a lost check-and-set, a
 * {@link io.credentialbroker.credential.CredentialVersionConflictException}) that carries neither a
 * secret nor Vault's raw answer. Calls block, so never make them on an event-loop thread.
 */
@ApplicationScoped
@DefaultBean
public class VaultCredentialStore implements CredentialStore, EnvironmentRecords {

    private final VaultClient vault;
    private final String mount;
    private final Duration timeout;
    private final CredentialObserver observer;
    private final LoginBackoff logins;

    private static final int READ_RETRIES = 2;
    private static final Duration READ_RETRY_BACKOFF = Duration.ofMillis(100);
    /** A retry is not started with less of the read's budget left than this. */
    private static final Duration MIN_ATTEMPT = Duration.ofMillis(100);

    @Inject
    VaultCredentialStore(VaultClient vault, BrokerConfig config, CredentialObserver observer, Clock clock) {
        this(vault, config.vault().kvMount(), config.vault().timeout(), observer,
                new LoginBackoff(clock, () -> ThreadLocalRandom.current().nextDouble()));
    }

    /**
     * @param mount
     *            the KV v2 mount ({@code broker.vault.kv-mount})
     * @param timeout
     *            the most one call may take, login and the client's own retries included
     *            ({@code broker.vault.timeout})
     */
    VaultCredentialStore(VaultClient vault, String mount, Duration timeout) {
        this(vault, mount, timeout, CredentialObserver.NONE, new LoginBackoff(Clock.systemUTC(), () -> 1.0));
    }

    VaultCredentialStore(VaultClient vault, String mount, Duration timeout, CredentialObserver observer,
            LoginBackoff logins) {
        // quarkus-vault retries any 403 on a cached token with a new login (VaultClient#shouldRetry), so a
        // policy refusal would cost a login and a second request (case 3). The store decides instead:
        // a new login only when Vault says the token itself is invalid (case 2); see await.
        Objects.requireNonNull(vault, "vault");
        this.vault = vault.getTokenProvider() == null
                ? vault
                : vault.configure().tokenProvider(new DecidingTokenProvider(vault.getTokenProvider())).build();
        this.mount = Objects.requireNonNull(mount, "mount");
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        this.observer = Objects.requireNonNull(observer, "observer");
        this.logins = Objects.requireNonNull(logins, "logins");
    }

    @Override
    public PartnerCredential read(Environment environment) {
        VaultRead read = new VaultRead(environment, mount);
        return observed("read", () -> retried(budget -> read.credentialFrom(await(environment, "read",
                read.location(), () -> vault.secrets().kv2(mount).readSecret(environment.vaultPath()), read::failed,
                budget, false))));
    }

    @Override
    public PartnerCredential read(Environment environment, int version) {
        VaultRead read = VaultRead.ofVersion(environment, mount, version);
        return observed("read", () -> retried(budget -> read.credentialFrom(await(environment, "read",
                read.location(), () -> vault.secrets().kv2(mount).readSecret(environment.vaultPath(), version),
                read::failed, budget, false))));
    }

    @Override
    public CredentialMetadata metadata(Environment environment) {
        VaultRead read = VaultRead.ofMetadata(environment, mount);
        return observed("metadata", () -> retried(budget -> read.metadataFrom(await(environment, "read",
                read.location(), () -> vault.secrets().kv2(mount).readSecretMetadata(environment.vaultPath()),
                read::failed, budget, false))));
    }

    @Override
    public PartnerCredential write(Environment environment, PartnerCredential candidate, int expectedVersion) {
        Objects.requireNonNull(candidate, "candidate");
        VaultWrite write = new VaultWrite(environment, mount, expectedVersion);
        return observed("write", () -> write.storedFrom(await(environment, "write", write.location(),
                () -> vault.execute(write.request(candidate)), write::failed, timeout, true), candidate));
    }

    @Override
    public Optional<StoredRecord> readRecord(Environment environment, String name) {
        VaultRead read = VaultRead.ofRecord(environment, mount, EnvironmentRecords.requireValidName(name));
        String path = environment.vaultPath() + "/" + name;
        return observed("read", () -> retried(budget -> {
            try {
                return Optional.of(read.recordFrom(await(environment, "read", read.location(),
                        () -> vault.secrets().kv2(mount).readSecret(path), read::recordFailed, budget, false)));
            } catch (VaultRead.AbsentRecord absent) {
                return absent.deleted();
            }
        }));
    }

    @Override
    public StoredRecord writeRecord(Environment environment, String name, Map<String, String> fields,
            int expectedVersion) {
        Map<String, String> data = Map.copyOf(fields);
        VaultWrite write = VaultWrite.ofRecord(environment, mount, EnvironmentRecords.requireValidName(name),
                expectedVersion);
        return observed("write", () -> write.writtenFrom(await(environment, "write", write.location(),
                () -> vault.execute(write.request(data)), write::failed, timeout, true), data));
    }

    @Override
    public void deleteRecord(Environment environment, String name) {
        VaultRead delete = VaultRead.ofRecordMetadata(environment, mount, EnvironmentRecords.requireValidName(name));
        String path = environment.vaultPath() + "/" + name;
        observed("delete", () -> {
            try {
                await(environment, "delete", delete.location(),
                        () -> vault.secrets().kv2(mount).deleteSecretMetadata(path), delete::recordFailed, timeout,
                        false);
            } catch (VaultRead.AbsentRecord absent) {
                // already gone: what was asked
            }
            return null;
        });
    }

    /**
     * Reads only: Vault answering 412, 429 or 5xx (not 501) is tried again at most
     * {@value #READ_RETRIES} times after jittered pauses (case 5). A 400, 403 or 404 is final, and so
     * is a timeout, which has already spent its budget. The whole read, retries and pauses included,
     * takes at most {@link #timeout}: each attempt gets what is left of it, and no retry starts without
     * time to finish. Writes are never retried: a write whose answer was lost may have landed, and
     * check-and-set would then refuse the retry.
     */
    private <T> T retried(Function<Duration, T> call) {
        long deadline = System.nanoTime() + timeout.toNanos(); // real time: it bounds real waiting
        for (int retry = 1;; retry++) {
            try {
                return call.apply(Duration.ofNanos(deadline - System.nanoTime()));
            } catch (CredentialStoreException e) {
                if (!e.isRetryable() || retry > READ_RETRIES) {
                    throw e;
                }
                long nominal = READ_RETRY_BACKOFF.toMillis() << (retry - 1);
                long pause = nominal / 2 + ThreadLocalRandom.current().nextLong(nominal / 2 + 1);
                if (deadline - System.nanoTime() < TimeUnit.MILLISECONDS.toNanos(pause) + MIN_ATTEMPT.toNanos()) {
                    throw e; // no time left for another attempt within the budget
                }
                try {
                    Thread.sleep(pause);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    private <T> T observed(String operation, Supplier<T> call) {
        try {
            T result = call.get();
            observer.storeCalled(operation, "success");
            return result;
        } catch (CredentialStoreException e) {
            observer.storeCalled(operation, e.reason().name().toLowerCase(Locale.ROOT));
            throw e;
        } catch (RuntimeException e) {
            observer.storeCalled(operation, "error");
            throw e;
        }
    }

    /**
     * Runs one call and waits for it at most {@code budget}: quarkus.vault.read-timeout bounds each
     * HTTP request, this bounds the whole call, login and the client's own retries included.
     */
    private <T> T await(Environment environment, String verb, String location, Supplier<CompletionStage<T>> call,
            Function<Throwable, ? extends RuntimeException> failed, Duration budget, boolean write) {
        long deadline = System.nanoTime() + Math.max(0, budget.toNanos());
        try {
            return awaitOnce(environment, verb, location, call, failed, budget, write);
        } catch (InvalidTokenException e) {
            if (!(vault.getTokenProvider() instanceof DecidingTokenProvider deciding)
                    || !deciding.lastTokenWasCached()) {
                throw failure(e.getCause(), failed); // a static token, or one just obtained: a login cannot help
            }
            // The token Vault no longer knows (revoked, expired, a restarted dev server): log in again once
            // and repeat the request, which Vault refused without doing anything (case 2). A second refusal
            // fails closed.
            vault.getTokenProvider().invalidateCache();
            try {
                return awaitOnce(environment, verb, location, call, failed,
                        Duration.ofNanos(deadline - System.nanoTime()), write);
            } catch (InvalidTokenException again) {
                throw failure(again.getCause(), failed);
            }
        }
    }

    /**
     * One call, waited for at most {@code budget}; a refusal of the token itself comes back as
     * {@link InvalidTokenException} for {@link #await} to decide.
     */
    private <T> T awaitOnce(Environment environment, String verb, String location,
            Supplier<CompletionStage<T>> call, Function<Throwable, ? extends RuntimeException> failed,
            Duration budget, boolean write) {
        logins.check(environment.name());
        CompletableFuture<T> pending;
        try {
            pending = call.get().toCompletableFuture();
        } catch (RuntimeException e) {
            // A token provider may fail before any request is sent.
            throw failure(unwrapped(e), failed);
        }
        try {
            T answer = pending.get(Math.max(0, budget.toNanos()), TimeUnit.NANOSECONDS);
            logins.succeeded();
            return answer;
        } catch (TimeoutException e) {
            pending.cancel(true);
            // The call may have been a login Vault never answered (the client logs in inside it), and a
            // Vault that does not answer is not helped by more calls: pace them as after a failed login.
            logins.failed(UNAVAILABLE);
            String message = "Vault did not answer the " + verb + " of " + location + " for environment '"
                    + environment.name() + "' within " + timeout;
            // a write that went out may have landed all the same
            throw write
                    ? CredentialStoreException.outcomeUnknown(environment.name(), message + "; it may have happened")
                    : new CredentialStoreException(UNAVAILABLE, environment.name(), message);
        } catch (ExecutionException e) {
            Throwable cause = unwrapped(e.getCause());
            if (isInvalidToken(cause)) {
                throw new InvalidTokenException(cause);
            }
            throw failure(cause, failed);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            pending.cancel(true);
            throw new CredentialStoreException(UNAVAILABLE, environment.name(),
                    "interrupted during the " + verb + " of " + location + " for environment '" + environment.name()
                            + "'");
        }
    }

    /**
     * What {@code cause} means for the caller; a failed login also starts or lengthens the pause before
     * the next one (case 7).
     */
    private RuntimeException failure(Throwable cause, Function<Throwable, ? extends RuntimeException> failed) {
        RuntimeException failure = failed.apply(cause);
        if (LoginBackoff.isLoginFailure(cause)) {
            logins.failed(failure instanceof CredentialStoreException store ? store.reason() : UNAVAILABLE);
        }
        return failure;
    }

    /**
     * Vault refused the token itself: 403 with {@code invalid token} among its errors, as it answers
     * for an unknown, revoked or expired token; a policy refusal says {@code permission denied} only
     * (docs/upstream-behaviour.md, "HashiCorp Vault (KV v2)"). Logins are not: their refusal is the
     * login backoff's business.
     */
    private static boolean isInvalidToken(Throwable cause) {
        return cause instanceof VaultClientException vault && vault.getStatus() != null && vault.getStatus() == 403
                && !LoginBackoff.isLoginFailure(cause) && vault.getErrors() != null
                && vault.getErrors().stream().anyMatch(error -> error != null
                        && error.toLowerCase(Locale.ROOT).contains("invalid token"));
    }

    /**
     * Carries a refusal of the token from {@link #awaitOnce} to {@link #await}; never leaves this
     * class.
     */
    private static final class InvalidTokenException extends RuntimeException {

        InvalidTokenException(Throwable cause) {
            super("invalid token", cause, false, false);
        }
    }

    /** The failure inside the wrappers a future puts around it. */
    private static Throwable unwrapped(Throwable failure) {
        Throwable cause = failure;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException)
                && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }

    @Override
    public String toString() {
        return "VaultCredentialStore[mount=" + mount + ", timeout=" + timeout + "]";
    }
}
