package org.serbnn.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import org.junit.Test;

public class ResamplerTest {
    private static float[] sine(double freq, int rate, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (0.5 * Math.sin(2 * Math.PI * freq * i / rate));
        }
        return x;
    }

    private static double rmsMiddle(float[] x) {
        double s = 0;
        int lo = x.length / 4;
        int hi = 3 * x.length / 4;
        for (int i = lo; i < hi; i++) {
            s += x[i] * (double) x[i];
        }
        return Math.sqrt(s / (hi - lo));
    }

    @Test
    public void sameRateIsACopy() {
        float[] x = {1, 2, 3};
        float[] y = Resampler.resample(x, 16000, 16000);
        assertArrayEquals(x, y, 0f);
        y[0] = 5;
        assertEquals(1f, x[0], 0f);
    }

    @Test
    public void lengthIsCeilOfRatio() {
        assertEquals(16000, Resampler.resample(new float[44100], 44100, 16000).length);
        assertEquals(2, Resampler.resample(new float[5], 44100, 16000).length);
        assertEquals(96000, Resampler.resample(new float[48000], 8000, 16000).length);
    }

    @Test
    public void passbandToneIsPreserved() {
        for (int src : new int[] {44100, 48000, 8000}) {
            float[] y = Resampler.resample(sine(1000, src, src), src, 16000);
            double maxErr = 0;
            for (int i = 4000; i < 12000; i++) {
                double want = 0.5 * Math.sin(2 * Math.PI * 1000 * i / 16000.0);
                maxErr = Math.max(maxErr, Math.abs(y[i] - want));
            }
            assertTrue("src " + src + ": max error " + maxErr, maxErr < 5e-3);
        }
    }

    @Test
    public void toneAboveNewNyquistIsRemoved() {
        float[] y = Resampler.resample(sine(12000, 44100, 44100), 44100, 16000);
        double db = 20 * Math.log10(rmsMiddle(y) / (0.5 / Math.sqrt(2)));
        assertTrue("12 kHz tone after resampling to 16 kHz: " + db + " dB", db < -40);
    }
}
