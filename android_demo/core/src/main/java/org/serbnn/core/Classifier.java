package org.serbnn.core;

/**
 * One forward pass of the exported model: a 3 s waveform window in, class probabilities out.
 *
 * <p>The Android app implements this with the LCE Lite (TensorFlow Lite) {@code Interpreter}; tests can
 * implement it with any deterministic function. Implementations need not be thread-safe: callers use one
 * classifier from one thread at a time.
 */
public interface Classifier {
    /**
     * @param window48000 float32 samples in [-1, 1], exactly {@link Windowing#WINDOW_SAMPLES} long
     * @return probabilities, one per class, in the model's output order (the order of the labels file)
     */
    float[] classify(float[] window48000);
}
