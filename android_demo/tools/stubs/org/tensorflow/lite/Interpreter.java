package org.tensorflow.lite;

import java.nio.ByteBuffer;
import java.util.Map;

/** Compile-only stub of the TensorFlow Lite Interpreter (see tools/stubs/README.md). Never dexed. */
public final class Interpreter implements AutoCloseable {
    /** Stub of Interpreter.Options. */
    public static class Options {
        public Options setNumThreads(int numThreads) {
            throw stub();
        }

        public Options setUseXNNPACK(boolean useXNNPACK) {
            throw stub();
        }
    }

    public Interpreter(ByteBuffer model, Options options) {
        throw stub();
    }

    public Tensor getInputTensor(int index) {
        throw stub();
    }

    public Tensor getOutputTensor(int index) {
        throw stub();
    }

    public int getInputTensorCount() {
        throw stub();
    }

    public int getOutputTensorCount() {
        throw stub();
    }

    public void run(Object input, Object output) {
        throw stub();
    }

    public void runForMultipleInputsOutputs(Object[] inputs, Map<Integer, Object> outputs) {
        throw stub();
    }

    @Override
    public void close() {
        throw stub();
    }

    private static UnsupportedOperationException stub() {
        return new UnsupportedOperationException("compile-only stub: link against org.larq:lce-lite");
    }
}
