package org.serbnn.core;

import java.io.File;
import java.io.IOException;

/**
 * The speaker side of the app: the model's {@link SpeakerStream} and, for a model that takes speaker
 * statistics, the profile file that keeps them across launches ({@link ProfileStore}), with the lines the
 * app shows about them. Profile writes happen on the caller's thread (the app's inference thread); a write
 * that fails is reported as a line, never thrown.
 */
public final class SpeakerSession {
    private final SpeakerStream stream;
    private final ProfileStore store;
    private final Clock clock;
    private final String startStatus;

    private SpeakerSession(SpeakerStream stream, ProfileStore store, Clock clock, String startStatus) {
        this.stream = stream;
        this.store = store;
        this.clock = clock;
        this.startStatus = startStatus;
    }

    /**
     * The stream for the model as its sidecar and tensors describe it; for a model that takes speaker
     * statistics, continued from {@code profileFile} (a file that cannot be used is reported and left alone,
     * see {@link ProfileStore#load()}).
     *
     * @param saveIntervalMs live mode writes the profile at most this often ({@link #saveIfDue()})
     */
    public static SpeakerSession open(ModelInfo info, TensorRoles roles, File profileFile, long saveIntervalMs,
            Clock clock) {
        SpeakerStream stream = SpeakerStream.forModel(info, roles, null);
        if (!stream.takesStats()) {
            return new SpeakerSession(stream, null, clock, null);
        }
        ProfileStore store = new ProfileStore(profileFile, stream, info.nMels, saveIntervalMs);
        String status = store.load();
        return new SpeakerSession(stream, store, clock, status);
    }

    public SpeakerStream stream() {
        return stream;
    }

    /** Whether the model takes speaker statistics, kept in a profile ("New speaker" applies). */
    public boolean hasProfile() {
        return store != null;
    }

    /** What loading the profile found ({@link ProfileStore#load()}); null for a model without a profile. */
    public String startStatus() {
        return startStatus;
    }

    /** "Speaker: 2345 frames of speech (23.4 s), own statistics in use"; null for a model without a profile. */
    public String statusLine() {
        return store == null ? null : "Speaker: " + ProfileStore.describe(stream.snapshot(), stream.rule());
    }

    /** "New speaker": zero statistics, written at once; returns the line to show (null without a profile). */
    public String newSpeaker() {
        if (store == null) {
            return null;
        }
        try {
            store.newSpeaker(clock.nowMs());
        } catch (IOException e) {
            return cannotWrite(e);
        }
        return "New speaker: " + ProfileStore.describe(stream.snapshot(), stream.rule());
    }

    /** After a speech window: write the profile if it changed and the last write is old enough; null or an error line. */
    public String saveIfDue() {
        return save(false);
    }

    /** Leaving the foreground: write the profile if it changed; null or an error line. */
    public String saveNow() {
        return save(true);
    }

    private String save(boolean evenIfRecent) {
        if (store == null) {
            return null;
        }
        try {
            if (evenIfRecent) {
                store.save();
            } else {
                store.saveIfDue(clock.nowMs());
            }
        } catch (IOException e) {
            return cannotWrite(e);
        }
        return null;
    }

    private static String cannotWrite(IOException e) {
        return "Cannot write the speaker profile: " + e.getMessage();
    }
}
