package org.serbnn.core;

import java.io.IOException;

/**
 * Band-limited resampling of a whole signal for files not at 16 kHz: windowed-sinc interpolation
 * (Blackman window, 16 zero crossings each side, cut-off at 95% of the lower Nyquist frequency) from a
 * per-phase coefficient table ({@link PolyphaseFilter}), applied by {@link ResamplingSource} (the
 * streaming form file mode uses). Output length is ceil(n * dst / src), as librosa/soxr; values are
 * clipped to [-1, 1]. Not bit-identical to the Python side's soxr resampler: the model was trained and
 * checked on 16 kHz input, so prefer 16 kHz files.
 */
public final class Resampler {
    private Resampler() {
    }

    public static float[] resample(float[] x, int srcRate, int dstRate) {
        if (srcRate <= 0 || dstRate <= 0) {
            throw new IllegalArgumentException("sample rates must be positive, got " + srcRate + ", " + dstRate);
        }
        if (srcRate == dstRate) {
            return x.clone();
        }
        long nOut = ((long) x.length * dstRate + srcRate - 1) / srcRate;
        if (nOut > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("resampled signal too long");
        }
        float[] y = new float[(int) nOut];
        ResamplingSource source = new ResamplingSource(new ArraySampleSource(x), srcRate, dstRate);
        int n = 0;
        try {
            while (n < y.length) {
                int got = source.read(y, n, y.length - n);
                if (got < 0) {
                    break;
                }
                n += got;
            }
        } catch (IOException e) {
            throw new IllegalStateException("reading from memory failed", e); // ArraySampleSource does not throw
        }
        if (n != y.length) {
            throw new IllegalStateException("resampler produced " + n + " samples, expected " + y.length);
        }
        return y;
    }
}
