package org.tensorflow.lite;

/**
 * Compile-only stub of the TensorFlow Lite Tensor (see tools/stubs/README.md). Never dexed.
 * An interface, as in TensorFlow Lite 2.7+ (the LCE Lite AAR's Java API), so calls compile to the
 * same invoke kind as against the real class.
 */
public interface Tensor {
    int[] shape();
}
