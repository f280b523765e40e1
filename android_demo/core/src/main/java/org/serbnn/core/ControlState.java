package org.serbnn.core;

/**
 * Which of the app's controls accept taps, from what the app is doing. While the model loads, has
 * failed to load, or a file is being classified, none of Listen / Classify WAV / Bundled sample is
 * enabled (a tap during file classification used to queue a second job or start the microphone);
 * in idle and live mode all are (a file tap stops live mode first), the sample button only when the
 * APK bundles a sample, New speaker only when the model keeps a speaker profile (norm "speaker" models).
 * Single-threaded (UI thread).
 */
public final class ControlState {
    public enum Mode { LOADING, UNAVAILABLE, IDLE, LIVE, CLASSIFYING_FILE }

    private Mode mode = Mode.LOADING;
    private boolean hasSample;
    private boolean hasProfile;

    public Mode mode() {
        return mode;
    }

    public void modelReady(boolean sampleBundled) {
        modelReady(sampleBundled, false);
    }

    /** @param speakerProfile whether the model takes speaker statistics (the app keeps a profile) */
    public void modelReady(boolean sampleBundled, boolean speakerProfile) {
        hasSample = sampleBundled;
        hasProfile = speakerProfile;
        mode = Mode.IDLE;
    }

    public void modelFailed() {
        mode = Mode.UNAVAILABLE;
    }

    /** Live mode may start now. */
    public boolean canStartLive() {
        return mode == Mode.IDLE;
    }

    public void liveStarted() {
        require(mode == Mode.IDLE, "start live");
        mode = Mode.LIVE;
    }

    public void liveStopped() {
        if (mode == Mode.LIVE) {
            mode = Mode.IDLE;
        }
    }

    /** A file job may start now (live mode must be stopped first). */
    public boolean canClassifyFile() {
        return mode == Mode.IDLE || mode == Mode.LIVE;
    }

    public void fileStarted() {
        require(mode == Mode.IDLE, "classify a file");
        mode = Mode.CLASSIFYING_FILE;
    }

    public void fileFinished() {
        if (mode == Mode.CLASSIFYING_FILE) {
            mode = Mode.IDLE;
        }
    }

    public boolean liveButtonEnabled() {
        return mode == Mode.IDLE || mode == Mode.LIVE;
    }

    public boolean pickButtonEnabled() {
        return mode == Mode.IDLE || mode == Mode.LIVE;
    }

    public boolean sampleButtonEnabled() {
        return hasSample && (mode == Mode.IDLE || mode == Mode.LIVE);
    }

    /** "New speaker" (reset the speaker statistics) may run now: idle or live, with a profile. */
    public boolean newSpeakerButtonEnabled() {
        return hasProfile && (mode == Mode.IDLE || mode == Mode.LIVE);
    }

    private void require(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException("cannot " + what + " while " + mode);
        }
    }
}
