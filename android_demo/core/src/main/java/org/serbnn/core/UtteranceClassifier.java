package org.serbnn.core;

import java.util.List;

/**
 * File mode: cut a whole recording into windows ({@link Windowing}), classify each, max-pool the
 * posteriors ({@link Pooling#maxPool}) and name the winning class, as {@code ser-bnn predict} does.
 */
public final class UtteranceClassifier {
    /** Per-window and pooled results of one recording. */
    public static final class Result {
        public final int[] windowStarts;
        public final float[][] posteriors;
        public final float[] pooled;
        public final int best;
        public final String label;

        Result(int[] windowStarts, float[][] posteriors, float[] pooled, int best, String label) {
            this.windowStarts = windowStarts;
            this.posteriors = posteriors;
            this.pooled = pooled;
            this.best = best;
            this.label = label;
        }
    }

    private final Classifier classifier;
    private final List<String> labels;
    private final int window;
    private final int hop;

    public UtteranceClassifier(Classifier classifier, List<String> labels, int window, int hop) {
        if (window <= 0 || hop <= 0) {
            throw new IllegalArgumentException("window and hop must be positive");
        }
        this.classifier = classifier;
        this.labels = labels;
        this.window = window;
        this.hop = hop;
    }

    public Result classify(float[] wave) {
        int[] starts = Windowing.windowStarts(wave.length, window, hop);
        float[][] post = new float[starts.length][];
        for (int i = 0; i < starts.length; i++) {
            float[] p = classifier.classify(Windowing.window(wave, starts[i], window));
            if (p.length != labels.size()) {
                throw new IllegalStateException("model returned " + p.length + " probabilities for "
                        + labels.size() + " labels");
            }
            post[i] = p;
        }
        float[] pooled = Pooling.maxPool(post);
        int best = Pooling.argmax(pooled);
        return new Result(starts, post, pooled, best, labels.get(best));
    }
}
