package org.serbnn.core;

/**
 * The speech gating decision of a window, from the model's {@code speech_frames} output
 * ({@code ser_bnn/gating.py}). The frame rule ("spectral-change": signal, energy, spectral flatness,
 * and a spectral shape that keeps changing, as speech does and tones, hum, music and noise do not)
 * runs inside the exported graph; the app only compares the window's count of speech frames with
 * {@link #minSpeechFrames} ({@code gating.min_speech_frames} in the sidecar: 30 = 0.3 s; models
 * exported before this rule record 25).
 * Windows without speech are not classified (not pooled, not shown) and do not update the speaker
 * statistics; a file or stream without a speech window reports {@link #NO_SPEECH}.
 *
 * <p>{@link #energyFloor} and {@link #logFlatnessMax} are the frame rule's constants as the sidecar
 * records them, for display; they are applied inside the model, not here.
 */
public final class Gating {
    /** Speech frames a window needs (ser_bnn.gating.MIN_CHANGE_FRAMES, the deployed rule's). */
    public static final int MIN_SPEECH_FRAMES = 30;
    /** Frame energy floor, mean over bands of log(mel + 1e-6) (ser_bnn.gating.ENERGY_FLOOR). */
    public static final double ENERGY_FLOOR = -12.0;
    /** Log spectral flatness ceiling (ser_bnn.gating.LOG_FLATNESS_MAX). */
    public static final double LOG_FLATNESS_MAX = -0.6;
    /** What is shown instead of an emotion (ser-bnn predict's status). */
    public static final String NO_SPEECH = "no speech";

    public final double minSpeechFrames;
    public final double energyFloor;
    public final double logFlatnessMax;

    public Gating(double minSpeechFrames, double energyFloor, double logFlatnessMax) {
        if (!(minSpeechFrames >= 0) || Double.isInfinite(minSpeechFrames)) {
            throw new IllegalArgumentException("gating.min_speech_frames must be a finite number >= 0, got "
                    + minSpeechFrames);
        }
        this.minSpeechFrames = minSpeechFrames;
        this.energyFloor = energyFloor;
        this.logFlatnessMax = logFlatnessMax;
    }

    /** The constants of ser_bnn.gating. */
    public static Gating defaults() {
        return new Gating(MIN_SPEECH_FRAMES, ENERGY_FLOOR, LOG_FLATNESS_MAX);
    }

    /** The window rule: {@code speechFrames >= minSpeechFrames} (NaN is not speech). */
    public boolean isSpeech(double speechFrames) {
        return speechFrames >= minSpeechFrames;
    }
}
