package org.serbnn.core;

/**
 * A probabilities-only {@link Classifier} as a {@link ModelRunner}: no statistics input, no
 * {@code window_stats} / {@code speech_frames} outputs, so every window counts as speech (a model
 * exported before the statistics interface, or a test stand-in).
 */
public final class ClassifierRunner implements ModelRunner {
    private final Classifier classifier;

    public ClassifierRunner(Classifier classifier) {
        if (classifier == null) {
            throw new IllegalArgumentException("classifier is null");
        }
        this.classifier = classifier;
    }

    @Override
    public WindowOutput run(float[] window, float[][][] speakerStats) {
        float[] p = classifier.classify(window);
        if (p == null) {
            throw new IllegalStateException("model returned nothing");
        }
        return WindowOutput.probabilitiesOnly(p);
    }
}
