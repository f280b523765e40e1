package org.serbnn.core;

/**
 * Frozen copy of the resampler as it was before the polyphase table (kernel evaluated with sin/cos
 * for every tap of every output sample): the reference the table-driven {@link Resampler} must
 * reproduce. Test code only.
 */
final class PerTapResampler {
    private static final int ZERO_CROSSINGS = 16;
    private static final double ROLLOFF = 0.95;

    private PerTapResampler() {
    }

    static float[] resample(float[] x, int srcRate, int dstRate) {
        if (srcRate == dstRate) {
            return x.clone();
        }
        long nOut = ((long) x.length * dstRate + srcRate - 1) / srcRate;
        float[] y = new float[(int) nOut];
        double step = srcRate / (double) dstRate; // input samples per output sample
        double fc = 0.5 * Math.min(1.0, dstRate / (double) srcRate) * ROLLOFF; // cycles per input sample
        double halfWidth = ZERO_CROSSINGS / (2.0 * fc); // in input samples
        for (int i = 0; i < y.length; i++) {
            double t = i * step;
            int lo = (int) Math.ceil(t - halfWidth);
            int hi = (int) Math.floor(t + halfWidth);
            double acc = 0.0;
            for (int k = Math.max(lo, 0); k <= Math.min(hi, x.length - 1); k++) {
                double u = k - t;
                acc += x[k] * kernel(u, fc, halfWidth);
            }
            y[i] = (float) acc;
        }
        return y;
    }

    private static double kernel(double u, double fc, double halfWidth) {
        double a = 2.0 * fc * u;
        double sinc = a == 0.0 ? 1.0 : Math.sin(Math.PI * a) / (Math.PI * a);
        double r = u / halfWidth; // in [-1, 1]
        double w = 0.42 + 0.5 * Math.cos(Math.PI * r) + 0.08 * Math.cos(2.0 * Math.PI * r);
        return 2.0 * fc * sinc * w;
    }
}
