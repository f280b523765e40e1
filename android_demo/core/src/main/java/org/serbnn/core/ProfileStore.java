package org.serbnn.core;

import java.io.File;
import java.io.IOException;
import java.util.Locale;

/**
 * The app's speaker profile on disk: the statistics of a {@link SpeakerStream} kept across launches in
 * one JSON file, the format of {@code ser-bnn predict --profile} ({@link SpeakerProfile}).
 * <ul>
 *   <li>{@link #load()} at start-up: continue from the file, or from zero statistics when there is none.
 *       A file that cannot be used (not JSON, other band count, NaN, negative count, ...) is reported with
 *       its one-line reason and <b>left alone</b>: the stream starts from zero statistics and nothing is
 *       written over the file until the user asks for a new speaker.</li>
 *   <li>{@link #saveIfDue(long)} after windows: writes (atomically) when the statistics changed and at
 *       least {@code minIntervalMs} passed since the last write; {@link #save()} (leaving the app) writes
 *       whenever they changed.</li>
 *   <li>{@link #newSpeaker()}: zero statistics, written at once (also over an unusable file).</li>
 * </ul>
 * Thread-safe; file I/O happens on the caller's thread (the app calls it on its inference thread).
 */
public final class ProfileStore {
    private final File file;
    private final SpeakerStream stream;
    private final int nMels;
    private final long minIntervalMs;
    private boolean keepFile;
    private long savedUpdates;
    private long lastSaveMs;
    private boolean savedOnce;

    public ProfileStore(File file, SpeakerStream stream, int nMels, long minIntervalMs) {
        if (!stream.takesStats()) {
            throw new IllegalArgumentException("the model takes no speaker statistics: nothing to store");
        }
        this.file = file;
        this.stream = stream;
        this.nMels = nMels;
        this.minIntervalMs = minIntervalMs;
        this.savedUpdates = stream.updates();
    }

    public File file() {
        return file;
    }

    /** Whether an unusable profile file is being kept as it is (not overwritten until {@link #newSpeaker()}). */
    public synchronized boolean keepingUnusableFile() {
        return keepFile;
    }

    /** Read the stored profile into the stream; returns a one-line status for the UI. */
    public synchronized String load() {
        if (!file.exists()) {
            savedUpdates = stream.updates();
            return "New speaker: " + describe(stream.snapshot(), stream.rule());
        }
        try {
            SpeakerStats s = SpeakerProfile.load(file, nMels);
            stream.replace(s);
            savedUpdates = stream.updates();
            keepFile = false;
            return "Speaker profile loaded: " + describe(s, stream.rule());
        } catch (ProfileException e) {
            keepFile = true;
            return e.getMessage() + ". The file is kept as it is and not updated; starting from the default "
                    + "statistics (tap New speaker to replace it).";
        }
    }

    /** Write the statistics if they changed and the last write is at least minIntervalMs old. */
    public synchronized boolean saveIfDue(long nowMs) throws IOException {
        if (!dirty() || (savedOnce && nowMs - lastSaveMs < minIntervalMs)) {
            return false;
        }
        write(nowMs);
        return true;
    }

    /** Write the statistics if they changed since the last write (and the file is not being kept). */
    public synchronized boolean save() throws IOException {
        if (!dirty()) {
            return false;
        }
        write(lastSaveMs);
        return true;
    }

    /** "New speaker": zero statistics in the stream and in the file (replacing an unusable one). */
    public synchronized void newSpeaker(long nowMs) throws IOException {
        stream.reset();
        keepFile = false;
        write(nowMs);
    }

    private boolean dirty() {
        return !keepFile && stream.updates() != savedUpdates;
    }

    private void write(long nowMs) throws IOException {
        long updates = stream.updates();
        SpeakerProfile.save(file, stream.snapshot());
        savedUpdates = updates;
        lastSaveMs = nowMs;
        savedOnce = true;
    }

    /**
     * "2345 frames of speech (23.4 s), own statistics in use" or "40 frames of speech (0.4 s), default
     * statistics until 100 frames" (10 ms frames).
     */
    public static String describe(SpeakerStats s, SpeakerStatsRule rule) {
        double count = s == null ? 0 : s.count();
        String head = String.format(Locale.US, "%.0f frames of speech (%.1f s), ", count, count / 100.0);
        if (s != null && rule.usesSpeakerStatistics(s)) {
            return head + "own statistics in use";
        }
        return head + String.format(Locale.US, "default statistics until %.0f frames", rule.minStatsFrames);
    }
}
