package org.serbnn.core;

/**
 * What one window gives ({@code ser_bnn.model_io.WindowOutput}): class probabilities, the window's own
 * statistics ({@code window_stats}, [3][n_mels]: count in every band, sum, sum of squares of the raw
 * log-Mel over its signal frames) and its number of speech frames ({@code speech_frames}). Models exported
 * before the statistics interface give only probabilities: then {@link #windowStats} is null and
 * {@link #speechFrames} NaN (no gating: every window counts as speech, as in ser-bnn predict).
 */
public final class WindowOutput {
    public final float[] probabilities;
    /** [3][n_mels] or null. */
    public final float[][] windowStats;
    /** Speech frames, or NaN when the model has no gating output. */
    public final float speechFrames;

    public WindowOutput(float[] probabilities, float[][] windowStats, float speechFrames) {
        if (probabilities == null) {
            throw new IllegalArgumentException("no probabilities");
        }
        if ((windowStats == null) != Float.isNaN(speechFrames)) {
            throw new IllegalArgumentException("window_stats and speech_frames come together (both or neither)");
        }
        this.probabilities = probabilities;
        this.windowStats = windowStats;
        this.speechFrames = speechFrames;
    }

    /** Probabilities only (a model without the statistics / gating outputs). */
    public static WindowOutput probabilitiesOnly(float[] probabilities) {
        return new WindowOutput(probabilities, null, Float.NaN);
    }

    public boolean gated() {
        return windowStats != null;
    }
}
