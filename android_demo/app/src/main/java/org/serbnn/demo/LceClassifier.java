package org.serbnn.demo;

import java.io.Closeable;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;

import org.serbnn.core.Classifier;
import org.serbnn.core.ModelInfo;
import org.serbnn.core.ModelRunner;
import org.serbnn.core.TensorRoles;
import org.serbnn.core.WindowOutput;
import org.tensorflow.lite.Interpreter;

/**
 * The exported model on the LCE Lite runtime (TensorFlow Lite's Interpreter API with the Larq Compute
 * Engine ops registered). Tensors are found by shape ({@link TensorRoles}, as ser_bnn.model_io) and must
 * agree with the sidecar's indices: waveform [1, window] and, for a norm "speaker" model, speaker_stats
 * [1, 3, n_mels] in; probabilities [1, n_classes] and, for models with the statistics interface,
 * window_stats [1, 3, n_mels] and speech_frames [1, 1] out. One {@code runForMultipleInputsOutputs} per
 * window. XNNPACK is off: it does not handle LCE's custom ops, and LCE's own kernels are the fast path.
 * Not thread-safe: the app calls it from its single inference thread.
 */
final class LceClassifier implements ModelRunner, Classifier, Closeable {
    private final Interpreter interpreter;
    private final TensorRoles roles;
    private final Object[] inputs;
    private final Map<Integer, Object> outputs = new HashMap<Integer, Object>();
    private final float[][] wave;
    private final float[][][] stats; // null without the speaker_stats input
    private final float[][] probs;
    private final float[][][] windowStats; // null without the statistics outputs
    private final float[][] speechFrames;

    LceClassifier(ByteBuffer model, int numThreads, ModelInfo info) {
        Interpreter.Options options = new Interpreter.Options();
        options.setNumThreads(numThreads);
        options.setUseXNNPACK(false);
        interpreter = new Interpreter(model, options);
        try {
            int[][] in = new int[interpreter.getInputTensorCount()][];
            for (int i = 0; i < in.length; i++) {
                in[i] = interpreter.getInputTensor(i).shape();
            }
            int[][] out = new int[interpreter.getOutputTensorCount()][];
            for (int i = 0; i < out.length; i++) {
                out[i] = interpreter.getOutputTensor(i).shape();
            }
            roles = TensorRoles.find(in, out, new int[] {1, info.windowSamples}, info.numClasses(), info.nMels,
                    "model.tflite (per the sidecar)");
            roles.checkSidecar(info);
        } catch (RuntimeException e) {
            interpreter.close();
            throw e;
        }
        inputs = new Object[roles.takesStats() ? 2 : 1];
        wave = new float[1][info.windowSamples];
        inputs[roles.signal] = wave;
        stats = roles.takesStats() ? new float[1][3][info.nMels] : null;
        if (stats != null) {
            inputs[roles.speakerStats] = stats;
        }
        probs = new float[1][info.numClasses()];
        outputs.put(roles.probabilities, probs);
        windowStats = roles.gated() ? new float[1][3][info.nMels] : null;
        speechFrames = roles.gated() ? new float[1][1] : null;
        if (roles.gated()) {
            outputs.put(roles.windowStats, windowStats);
            outputs.put(roles.speechFrames, speechFrames);
        }
    }

    TensorRoles roles() {
        return roles;
    }

    @Override
    public WindowOutput run(float[] window, float[][][] speakerStats) {
        if (window.length != wave[0].length) {
            throw new IllegalArgumentException("window has " + window.length + " samples, model expects "
                    + wave[0].length);
        }
        System.arraycopy(window, 0, wave[0], 0, window.length);
        if (stats != null) {
            for (int r = 0; r < 3; r++) {
                if (speakerStats == null) {
                    java.util.Arrays.fill(stats[0][r], 0f); // zeros = the model's default statistics
                } else {
                    System.arraycopy(speakerStats[0][r], 0, stats[0][r], 0, stats[0][r].length);
                }
            }
        }
        interpreter.runForMultipleInputsOutputs(inputs, outputs);
        if (windowStats == null) {
            return WindowOutput.probabilitiesOnly(probs[0].clone());
        }
        float[][] ws = new float[3][];
        for (int r = 0; r < 3; r++) {
            ws[r] = windowStats[0][r].clone();
        }
        return new WindowOutput(probs[0].clone(), ws, speechFrames[0][0]);
    }

    @Override
    public float[] classify(float[] window) {
        return run(window, null).probabilities;
    }

    @Override
    public void close() {
        interpreter.close();
    }
}
