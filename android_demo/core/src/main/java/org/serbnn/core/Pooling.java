package org.serbnn.core;

/**
 * Utterance decisions from per-window posteriors, as {@code ser_bnn.segments.max_pool_posteriors}
 * (max over windows per class, paper section 4.2), plus arg-max helpers.
 */
public final class Pooling {
    private Pooling() {
    }

    /** Max over windows, per class. Rejects an empty or ragged matrix. */
    public static float[] maxPool(float[][] posteriors) {
        if (posteriors == null || posteriors.length == 0) {
            throw new IllegalArgumentException("expected [n_windows, n_classes] posteriors, got no windows");
        }
        int nClasses = posteriors[0].length;
        if (nClasses == 0) {
            throw new IllegalArgumentException("expected [n_windows, n_classes] posteriors, got no classes");
        }
        float[] out = posteriors[0].clone();
        for (int w = 1; w < posteriors.length; w++) {
            if (posteriors[w].length != nClasses) {
                throw new IllegalArgumentException("window " + w + " has " + posteriors[w].length
                        + " classes, window 0 has " + nClasses);
            }
            for (int c = 0; c < nClasses; c++) {
                if (posteriors[w][c] > out[c]) {
                    out[c] = posteriors[w][c];
                }
            }
        }
        return out;
    }

    /** Index of the largest value; the first one on ties (as numpy.argmax). */
    public static int argmax(float[] v) {
        if (v.length == 0) {
            throw new IllegalArgumentException("argmax of an empty vector");
        }
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }
}
