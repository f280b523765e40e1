package org.serbnn.core;

/**
 * Utterance decisions from per-window posteriors, as {@code ser_bnn.segments.pool_posteriors}: the rule
 * named by the sidecar's {@code pooling}, {@value #MAX} (max over windows per class, paper section 4.2) or
 * {@value #MEAN_LOG} (the geometric mean over windows per class), plus arg-max helpers.
 */
public final class Pooling {
    /** Per-class maximum over windows (paper). */
    public static final String MAX = "max";
    /** Per-class exp(mean(log(max(p, LOG_FLOOR)))) over windows: the geometric mean. */
    public static final String MEAN_LOG = "mean-log";
    /** Posteriors are floored here before the log (ser_bnn.segments.LOG_FLOOR). */
    public static final double LOG_FLOOR = 1e-7;

    private Pooling() {
    }

    /** {@code rule} if it is {@link #MAX} or {@link #MEAN_LOG}; else an IllegalArgumentException. */
    public static String checkRule(String rule) {
        if (MAX.equals(rule) || MEAN_LOG.equals(rule)) {
            return rule;
        }
        throw new IllegalArgumentException("pooling must be \"" + MAX + "\" or \"" + MEAN_LOG + "\", got "
                + (rule == null ? "null" : "\"" + rule + "\""));
    }

    /** Pool with the named rule ({@link #checkRule}). */
    public static float[] pool(float[][] posteriors, String rule) {
        return MEAN_LOG.equals(checkRule(rule)) ? meanLogPool(posteriors) : maxPool(posteriors);
    }

    /** Geometric mean over windows, per class (in double, rounded once). Rejects an empty or ragged matrix. */
    public static float[] meanLogPool(float[][] posteriors) {
        maxPool(posteriors); // the same checks
        int nClasses = posteriors[0].length;
        float[] out = new float[nClasses];
        for (int c = 0; c < nClasses; c++) {
            double sum = 0.0;
            for (float[] p : posteriors) {
                sum += Math.log(Math.max((double) p[c], LOG_FLOOR));
            }
            out[c] = (float) Math.exp(sum / posteriors.length);
        }
        return out;
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
