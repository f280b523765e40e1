package org.serbnn.demo;

import java.io.Closeable;
import java.nio.ByteBuffer;
import java.util.Arrays;

import org.serbnn.core.Classifier;
import org.tensorflow.lite.Interpreter;

/**
 * {@link Classifier} backed by the LCE Lite runtime (TensorFlow Lite's Interpreter API with the Larq
 * Compute Engine ops registered). Input float32 [1, window], output probabilities [1, n_classes].
 * XNNPACK is off: it does not handle LCE's custom ops, and LCE's own kernels are the fast path.
 * Not thread-safe: the app calls it from its single inference thread.
 */
final class LceClassifier implements Classifier, Closeable {
    private final Interpreter interpreter;
    private final float[][] input;
    private final float[][] output;

    LceClassifier(ByteBuffer model, int numThreads) {
        Interpreter.Options options = new Interpreter.Options();
        options.setNumThreads(numThreads);
        options.setUseXNNPACK(false);
        interpreter = new Interpreter(model, options);
        int[] in = interpreter.getInputTensor(0).shape();
        int[] out = interpreter.getOutputTensor(0).shape();
        if (in.length != 2 || in[0] != 1 || out.length != 2 || out[0] != 1) {
            interpreter.close();
            throw new IllegalArgumentException("model must map [1, samples] to [1, classes], got "
                    + Arrays.toString(in) + " -> " + Arrays.toString(out));
        }
        input = new float[1][in[1]];
        output = new float[1][out[1]];
    }

    int windowSamples() {
        return input[0].length;
    }

    int numClasses() {
        return output[0].length;
    }

    @Override
    public float[] classify(float[] window) {
        if (window.length != input[0].length) {
            throw new IllegalArgumentException("window has " + window.length + " samples, model expects "
                    + input[0].length);
        }
        System.arraycopy(window, 0, input[0], 0, window.length);
        interpreter.run(input, output);
        return output[0].clone();
    }

    @Override
    public void close() {
        interpreter.close();
    }
}
