package org.serbnn.core;

/**
 * A speaker's running per-band statistics of the raw log-Mel {@code L = log(mel + 1e-6)} over signal
 * frames: frame count, per-band sum and per-band sum of squares, in double precision
 * ({@code ser_bnn.normalization.NormStats}). Mutable; not thread-safe ({@link SpeakerStream} guards it).
 *
 * <p>Update rule ({@link #add}, {@code ser_bnn.online.Tracker.update} + {@code cap}): for a window that is
 * speech, with {@code w = window_stats} of the model ([3][n_mels] float32: count in every band, sum, sumsq)
 * <pre>
 *   count += w[0][0]                 (the count of band 0, as ser_bnn.online.from_tensor)
 *   sum[b] += w[1][b];  sumsq[b] += w[2][b]
 *   if count &gt; cap:  k = cap / count;  count = cap;  sum[b] *= k;  sumsq[b] *= k
 * </pre>
 * (float32 values widened to double, then the same double operations in the same order as numpy, so
 * the result is bit-identical to Python's). The model's {@code speaker_stats} input is
 * {@link #toInput()}: float32 [1][3][n_mels], count in every band.
 */
public final class SpeakerStats {
    private double count;
    private final double[] sum;
    private final double[] sumsq;

    /** Zero statistics (the model then uses its default ones): a new speaker. */
    public SpeakerStats(int nMels) {
        if (nMels <= 0) {
            throw new IllegalArgumentException("need at least one Mel band, got " + nMels);
        }
        sum = new double[nMels];
        sumsq = new double[nMels];
    }

    /**
     * Given statistics, checked as a profile is (finite, count and sums of squares not negative, as many
     * sums as sums of squares).
     */
    public SpeakerStats(double count, double[] sum, double[] sumsq) {
        if (sum == null || sumsq == null || sum.length == 0 || sum.length != sumsq.length) {
            throw new IllegalArgumentException("statistics need as many sums as sums of squares (at least one band)");
        }
        String problem = problem(count, sum, sumsq);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        this.count = count;
        this.sum = sum.clone();
        this.sumsq = sumsq.clone();
    }

    /** Python's NormStats.from_dict checks after the band count, in its order; null when fine. */
    static String problem(double count, double[] sum, double[] sumsq) {
        boolean finite = !Double.isNaN(count) && !Double.isInfinite(count);
        for (int b = 0; b < sum.length && finite; b++) {
            finite = !Double.isNaN(sum[b]) && !Double.isInfinite(sum[b]);
        }
        for (int b = 0; b < sumsq.length && finite; b++) {
            finite = !Double.isNaN(sumsq[b]) && !Double.isInfinite(sumsq[b]);
        }
        if (!finite) {
            return "statistics contain NaN or infinity";
        }
        boolean negative = count < 0;
        for (int b = 0; b < sumsq.length && !negative; b++) {
            negative = sumsq[b] < 0;
        }
        if (negative) {
            return "statistics have a negative count or sum of squares";
        }
        return null;
    }

    public int numBands() {
        return sum.length;
    }

    /** Frames accumulated (after the cap). */
    public double count() {
        return count;
    }

    public double[] sum() {
        return sum.clone();
    }

    public double[] sumsq() {
        return sumsq.clone();
    }

    public SpeakerStats copy() {
        SpeakerStats c = new SpeakerStats(sum.length);
        c.set(this);
        return c;
    }

    /** Overwrite with {@code other}'s values (same band count). */
    public void set(SpeakerStats other) {
        requireBands(other.sum.length);
        count = other.count;
        System.arraycopy(other.sum, 0, sum, 0, sum.length);
        System.arraycopy(other.sumsq, 0, sumsq, 0, sumsq.length);
    }

    /** Back to zero: a new speaker (the model uses its default statistics). */
    public void clear() {
        count = 0;
        java.util.Arrays.fill(sum, 0);
        java.util.Arrays.fill(sumsq, 0);
    }

    /**
     * Add a speech window's {@code window_stats} ([3][n_mels]: count in every band, sum, sumsq), then apply
     * the cap. Refuses (IllegalArgumentException, statistics unchanged) a wrong shape, non-finite values
     * or a negative count or sum of squares: they would spoil the speaker's profile for good.
     */
    public void add(float[][] windowStats, double countCap) {
        if (windowStats == null || windowStats.length != 3) {
            throw new IllegalArgumentException("window_stats must be [3][" + sum.length + "]");
        }
        for (float[] row : windowStats) {
            if (row == null || row.length != sum.length) {
                throw new IllegalArgumentException("window_stats must be [3][" + sum.length + "], got a row of "
                        + (row == null ? "null" : String.valueOf(row.length)));
            }
        }
        double[] s = new double[sum.length];
        double[] q = new double[sum.length];
        for (int b = 0; b < s.length; b++) {
            s[b] = windowStats[1][b];
            q[b] = windowStats[2][b];
        }
        String problem = problem(windowStats[0][0], s, q);
        if (problem != null) {
            throw new IllegalArgumentException("window_stats: " + problem.replace("statistics ", ""));
        }
        count = count + (double) windowStats[0][0];
        for (int b = 0; b < sum.length; b++) {
            sum[b] = sum[b] + s[b];
            sumsq[b] = sumsq[b] + q[b];
        }
        cap(countCap);
    }

    /** If count &gt; limit, scale count, sum and sumsq by limit / count (mean and std unchanged). */
    public void cap(double limit) {
        if (count <= limit) {
            return;
        }
        double k = limit / count;
        count = limit;
        for (int b = 0; b < sum.length; b++) {
            sum[b] = sum[b] * k;
            sumsq[b] = sumsq[b] * k;
        }
    }

    /** The model's {@code speaker_stats} input: float32 [1][3][n_mels], count in every band, sum, sumsq. */
    public float[][][] toInput() {
        float[][][] t = new float[1][3][sum.length];
        writeInput(t);
        return t;
    }

    /** {@link #toInput()} into an existing [1][3][n_mels] array. */
    public void writeInput(float[][][] dst) {
        float c = (float) count;
        for (int b = 0; b < sum.length; b++) {
            dst[0][0][b] = c;
            dst[0][1][b] = (float) sum[b];
            dst[0][2][b] = (float) sumsq[b];
        }
    }

    /** Per-band mean (NormStats.mean); needs count &gt; 0. */
    public double[] mean() {
        if (count <= 0) {
            throw new IllegalStateException("no signal frames to compute statistics from");
        }
        double[] m = new double[sum.length];
        for (int b = 0; b < m.length; b++) {
            m[b] = sum[b] / count;
        }
        return m;
    }

    /** Per-band std with a floor (NormStats.std): max(sqrt(max(sumsq / max(count, 1) - mean^2, 0)), floor). */
    public double[] std(double floor) {
        double[] m = mean();
        double[] s = new double[m.length];
        double n = Math.max(count, 1.0);
        for (int b = 0; b < s.length; b++) {
            double var = Math.max(sumsq[b] / n - m[b] * m[b], 0.0);
            s[b] = Math.max(Math.sqrt(var), floor);
        }
        return s;
    }

    void requireBands(int n) {
        if (n != sum.length) {
            throw new IllegalArgumentException("statistics have " + n + " bands, expected " + sum.length);
        }
    }

    @Override
    public String toString() {
        return "SpeakerStats(count=" + count + ", bands=" + sum.length + ")";
    }
}
