package org.serbnn.core;

/**
 * The resampler's windowed-sinc kernel (Blackman window, 16 zero crossings each side, cut-off at 95% of
 * the lower Nyquist frequency), tabulated once per phase so that no sine or cosine is computed while
 * resampling.
 *
 * <p>With the rates reduced to {@code up / down} ({@code dst = src * up / down}), output sample {@code i}
 * sits at input position {@code i * down / up = base + phase / up}. Every output with the same
 * {@code phase} uses the same taps: row {@code phase} holds {@code kernel(j - phase / up)} for the taps
 * {@code j = tapMin .. tapMin + taps - 1} around {@code base} (zero where {@code |j - phase/up|} exceeds
 * the kernel's half width, exactly the taps the direct formula would use). When {@code up} is so large
 * that the table would exceed {@link #MAX_TABLE} entries (unusual rates such as 44101 Hz), the phase
 * axis is sampled on a grid of fewer rows and the coefficients are linearly interpolated between the
 * two neighbouring rows (error below 1e-5 of full scale).
 */
final class PolyphaseFilter {
    static final int ZERO_CROSSINGS = 16;
    static final double ROLLOFF = 0.95;
    /** Largest table (rows x taps) built for exact phases: 2 MiB of doubles. */
    static final int MAX_TABLE = 1 << 18;
    private static final int MIN_GRID_ROWS = 64;
    private static final int MAX_GRID_ROWS = 1024;

    final long up;
    final long down;
    final int tapMin;
    final int taps;
    /** True when every phase has its own row; else {@link #rows} grid rows, interpolated. */
    final boolean exact;
    final int rows;
    private final double[] table;

    PolyphaseFilter(int srcRate, int dstRate) {
        if (srcRate <= 0 || dstRate <= 0) {
            throw new IllegalArgumentException("sample rates must be positive, got " + srcRate + ", " + dstRate);
        }
        long g = gcd(srcRate, dstRate);
        up = dstRate / g;
        down = srcRate / g;
        double fc = 0.5 * Math.min(1.0, dstRate / (double) srcRate) * ROLLOFF; // cycles per input sample
        double halfWidth = ZERO_CROSSINGS / (2.0 * fc); // in input samples
        tapMin = (int) Math.ceil(-halfWidth); // phase 0 reaches down to -halfWidth ...
        taps = (int) Math.floor(1.0 + halfWidth) - tapMin + 1; // ... phase -> 1 up to 1 + halfWidth
        exact = up * taps <= MAX_TABLE;
        rows = exact ? (int) up : Math.max(MIN_GRID_ROWS, Math.min(MAX_GRID_ROWS, MAX_TABLE / taps - 1));
        int nRows = exact ? rows : rows + 1; // the grid also needs its end point, phase 1
        table = new double[nRows * taps];
        for (int r = 0; r < nRows; r++) {
            double phase = r / (double) rows; // fraction of an input sample, in [0, 1]
            for (int t = 0; t < taps; t++) {
                double u = tapMin + t - phase;
                table[r * taps + t] = Math.abs(u) <= halfWidth ? kernel(u, fc, halfWidth) : 0.0;
            }
        }
    }

    /**
     * One output sample: the taps of phase {@code phase} (0 .. up-1) applied to {@code x[from + t]} for
     * {@code t} in [tLo, tHi), where {@code x[from]} is the input sample at {@code base + tapMin}.
     */
    double apply(int phase, float[] x, int from, int tLo, int tHi) {
        double acc = 0.0;
        if (exact) {
            int row = phase * taps;
            for (int t = tLo; t < tHi; t++) {
                acc += x[from + t] * table[row + t];
            }
            return acc;
        }
        double pos = phase * (double) rows / up;
        int r = Math.min((int) pos, rows - 1);
        double a = pos - r;
        int row0 = r * taps;
        int row1 = row0 + taps;
        for (int t = tLo; t < tHi; t++) {
            acc += x[from + t] * ((1.0 - a) * table[row0 + t] + a * table[row1 + t]);
        }
        return acc;
    }

    /** Output length for {@code nIn} input samples: ceil(nIn * dst / src), as librosa/soxr. */
    long outputLength(long nIn) {
        return (nIn * up + down - 1) / down;
    }

    private static double kernel(double u, double fc, double halfWidth) {
        double a = 2.0 * fc * u;
        double sinc = a == 0.0 ? 1.0 : Math.sin(Math.PI * a) / (Math.PI * a);
        double r = u / halfWidth; // in [-1, 1]
        double w = 0.42 + 0.5 * Math.cos(Math.PI * r) + 0.08 * Math.cos(2.0 * Math.PI * r);
        return 2.0 * fc * sinc * w;
    }

    private static long gcd(long a, long b) {
        while (b != 0) {
            long t = a % b;
            a = b;
            b = t;
        }
        return a;
    }
}
