package org.serbnn.core;

import java.util.ArrayList;
import java.util.List;

/**
 * Fixed-length windows over a waveform, mirroring {@code ser_bnn/segments.py} exactly:
 * windows of {@link #WINDOW_SAMPLES} samples start at 0, hop, 2*hop, ... while they fit entirely;
 * if the last full window does not reach the end, one more window starts a hop later and is
 * zero-padded; input no longer than one window gives a single window at 0, zero-padded.
 */
public final class Windowing {
    /** 3 s at 16 kHz: 300 frames of 160 samples (the model's fixed input length). */
    public static final int WINDOW_SAMPLES = 48000;
    public static final int SAMPLE_RATE = 16000;

    private Windowing() {
    }

    /** Start offsets of windows covering {@code nSamples} (at least one window), as window_starts(). */
    public static int[] windowStarts(int nSamples, int window, int hop) {
        if (window <= 0 || hop <= 0) {
            throw new IllegalArgumentException("window and hop must be positive, got " + window + ", " + hop);
        }
        if (nSamples < 0) {
            throw new IllegalArgumentException("negative sample count " + nSamples);
        }
        if (nSamples <= window) {
            return new int[] {0};
        }
        List<Integer> starts = new ArrayList<Integer>();
        for (int s = 0; s <= nSamples - window; s += hop) {
            starts.add(s);
        }
        int last = starts.get(starts.size() - 1);
        if (last + window < nSamples) {
            starts.add(last + hop); // last, zero-padded window covers the tail
        }
        int[] out = new int[starts.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = starts.get(i);
        }
        return out;
    }

    /** Copy of {@code wave[start .. start+window)} with zeros past the end of the input. */
    public static float[] window(float[] wave, int start, int window) {
        float[] out = new float[window];
        int n = Math.max(0, Math.min(window, wave.length - start));
        if (n > 0) { // a tail window may start past the end (hop > window): all zeros
            System.arraycopy(wave, start, out, 0, n);
        }
        return out;
    }

    /** All windows [n_windows][window], the last zero-padded, as segment_waveform(). */
    public static float[][] segment(float[] wave, int window, int hop) {
        int[] starts = windowStarts(wave.length, window, hop);
        float[][] out = new float[starts.length][];
        for (int i = 0; i < starts.length; i++) {
            out[i] = window(wave, starts[i], window);
        }
        return out;
    }

    /** Hop in samples from a hop in seconds at {@code sampleRate}, at least one sample. */
    public static int hopSamples(double hopSeconds, int sampleRate) {
        if (!(hopSeconds > 0)) {
            throw new IllegalArgumentException("hop must be positive, got " + hopSeconds + " s");
        }
        return Math.max(1, (int) Math.round(hopSeconds * sampleRate));
    }
}
