package org.serbnn.core;

/**
 * One forward pass of an exported model with every input and output: a window of audio and (for a
 * {@code norm "speaker"} model) the speaker's statistics in; probabilities, {@code window_stats} and
 * {@code speech_frames} out ({@link WindowOutput}). The app implements it with the LCE Lite Interpreter
 * ({@code runForMultipleInputsOutputs}); {@link ClassifierRunner} adapts a probabilities-only
 * {@link Classifier}. Implementations need not be thread-safe. (No static or default methods here: the
 * Debian build dexes for API 23.)
 */
public interface ModelRunner {
    /**
     * @param window float32 samples in [-1, 1], the model's window length
     * @param speakerStats the {@code speaker_stats} input [1][3][n_mels] ({@link SpeakerStats#toInput()}),
     *     or null for a model without that input
     */
    WindowOutput run(float[] window, float[][][] speakerStats);
}
