package io.credentialbroker.credential;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.credentialbroker.environment.Environment;

/**
 * Each environment's app+user consent, kept in its own record beside the credential
 * ({@value #RECORD}), so key rotations and refresh-token write-backs never contend for one version
 * number. Writes are check-and-set; retiring one writes a version that holds no refresh token, so
 * it too is check-and-set and leaves a trace in the record's history.
 */
@ApplicationScoped
public class AppUserConsents {

    /** The record's name below the environment's Vault path. */
    public static final String RECORD = "app-user";

    private static final String REFRESH_TOKEN = "refresh_token";
    private static final String USER = "user";
    private static final String CONSENT_ID = "consent_id";
    private static final String OBTAINED_AT = "obtained_at";
    private static final String LAST_EXCHANGED_AT = "last_exchanged_at";
    private static final String MFA = "mfa";
    private static final String RETIRED_AT = "retired_at";

    private final EnvironmentRecords records;

    @Inject
    public AppUserConsents(EnvironmentRecords records) {
        this.records = Objects.requireNonNull(records, "records");
    }

    /**
     * What is stored now.
     *
     * @throws CredentialStoreException
     *             if it cannot be read, or what is stored is not a consent the broker wrote
     */
    public Current current(Environment environment) {
        Optional<StoredRecord> stored = records.readRecord(environment, RECORD);
        if (stored.isEmpty()) {
            return new Current(0, Optional.empty(), Optional.empty());
        }
        StoredRecord record = stored.get();
        Map<String, String> fields = record.fields();
        if (record.isEmpty() || fields.containsKey(RETIRED_AT)) {
            return new Current(record.version(), Optional.empty(), Optional.ofNullable(fields.get(RETIRED_AT))
                    .flatMap(at -> instant(at)));
        }
        String refreshToken = fields.get(REFRESH_TOKEN);
        Optional<Instant> obtained = Optional.ofNullable(fields.get(OBTAINED_AT)).flatMap(AppUserConsents::instant);
        Optional<Instant> exchanged = Optional.ofNullable(fields.get(LAST_EXCHANGED_AT))
                .flatMap(AppUserConsents::instant);
        String consentId = fields.get(CONSENT_ID);
        if (refreshToken == null || refreshToken.isBlank() || consentId == null || obtained.isEmpty()
                || exchanged.isEmpty()) {
            throw new CredentialStoreException(CredentialStoreException.Reason.INVALID_CONTENT, environment.name(),
                    "the app+user record of environment '" + environment.name() + "' (version " + record.version()
                            + ") is not one the broker wrote: it lacks refresh_token, consent_id, obtained_at or"
                            + " last_exchanged_at; install a refresh token again");
        }
        return new Current(record.version(), Optional.of(new AppUserConsent(record.version(), refreshToken,
                fields.get(USER), consentId, obtained.get(), exchanged.get(), "true".equals(fields.get(MFA)))),
                Optional.empty());
    }

    /**
     * Stores {@code consent} if {@code expectedVersion} is still current (0: nothing stored yet).
     *
     * @return the consent as stored, with its new version
     * @throws CredentialVersionConflictException
     *             if another writer (another replica's write-back, a re-consent) was first
     * @throws CredentialStoreException
     *             as {@link EnvironmentRecords#writeRecord}
     */
    public AppUserConsent write(Environment environment, AppUserConsent consent, int expectedVersion) {
        Map<String, String> fields = new HashMap<>();
        fields.put(REFRESH_TOKEN, consent.refreshToken());
        consent.userName().ifPresent(user -> fields.put(USER, user));
        fields.put(CONSENT_ID, consent.consentId());
        fields.put(OBTAINED_AT, consent.obtainedAt().toString());
        fields.put(LAST_EXCHANGED_AT, consent.lastExchangedAt().toString());
        fields.put(MFA, Boolean.toString(consent.mfa()));
        StoredRecord stored = records.writeRecord(environment, RECORD, fields, expectedVersion);
        return new AppUserConsent(stored.version(), consent.refreshToken(), consent.user(), consent.consentId(),
                consent.obtainedAt(), consent.lastExchangedAt(), consent.mfa());
    }

    /**
     * Retires the consent: a new version with no refresh token, if {@code expectedVersion} is still
     * current.
     *
     * @return the retiring version
     */
    public int retire(Environment environment, int expectedVersion, Instant at) {
        return records.writeRecord(environment, RECORD, Map.of(RETIRED_AT, at.toString()), expectedVersion).version();
    }

    private static Optional<Instant> instant(String text) {
        try {
            return Optional.of(Instant.parse(text));
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }

    /**
     * The record's state.
     *
     * @param version
     *            its current version, 0 if nothing was ever stored: what a check-and-set write names
     * @param consent
     *            the consent in force, empty if none was installed or it was retired
     * @param retiredAt
     *            when it was retired, if it was
     */
    public record Current(int version, Optional<AppUserConsent> consent, Optional<Instant> retiredAt) {
    }
}
