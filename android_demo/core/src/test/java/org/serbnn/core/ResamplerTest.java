package org.serbnn.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.util.Random;
import org.junit.Test;

public class ResamplerTest {
    private static float[] sine(double freq, int rate, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (0.5 * Math.sin(2 * Math.PI * freq * i / rate));
        }
        return x;
    }

    private static float[] noise(int n, long seed) {
        Random rnd = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (0.8 * rnd.nextDouble() - 0.4); // bounded: the old resampler did not clip
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
        assertEquals(0, Resampler.resample(new float[0], 44100, 16000).length);
    }

    @Test
    public void passbandToneIsPreserved() {
        for (int src : new int[] {44100, 48000, 8000, 44101}) {
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
        for (int src : new int[] {44100, 44101}) {
            float[] y = Resampler.resample(sine(12000, src, src), src, 16000);
            double db = 20 * Math.log10(rmsMiddle(y) / (0.5 / Math.sqrt(2)));
            assertTrue("12 kHz tone from " + src + " Hz after resampling to 16 kHz: " + db + " dB", db < -40);
        }
    }

    /** The polyphase table reproduces the old per-tap kernel evaluation (PerTapResampler). */
    @Test
    public void polyphaseTableMatchesPerTapKernel() {
        int[][] pairs = {
            {44100, 16000}, {48000, 16000}, {8000, 16000}, {22050, 16000}, {11025, 16000}, {32000, 16000},
            {12000, 16000}, {96000, 16000}, {16000, 8000}, {16000, 44100}, {7350, 16000},
        };
        for (int[] p : pairs) {
            assertTrue(p[0] + " -> " + p[1] + " uses exact phases", new PolyphaseFilter(p[0], p[1]).exact);
            compareWithPerTap(p[0], p[1], 1e-6);
        }
    }

    /** Rates with thousands of phases use an interpolated grid of rows: still within 1e-5 of the kernel. */
    @Test
    public void unusualRatesInterpolateBetweenTableRows() {
        int[][] pairs = {{44101, 16000}, {15999, 16000}, {192001, 16000}};
        for (int[] p : pairs) {
            PolyphaseFilter f = new PolyphaseFilter(p[0], p[1]);
            assertFalse(p[0] + " -> " + p[1] + " would need " + f.up + " rows", f.exact);
            assertTrue((f.rows + 1) * f.taps <= 2 * PolyphaseFilter.MAX_TABLE);
            compareWithPerTap(p[0], p[1], 1e-5);
        }
    }

    private static void compareWithPerTap(int src, int dst, double tol) {
        for (int n : new int[] {0, 1, 5, 97, src / 3 + 11}) {
            float[] x = noise(n, n + src);
            float[] want = PerTapResampler.resample(x, src, dst);
            float[] got = Resampler.resample(x, src, dst);
            assertEquals(src + " -> " + dst + " n=" + n + " length", want.length, got.length);
            double maxErr = 0;
            for (int i = 0; i < want.length; i++) {
                maxErr = Math.max(maxErr, Math.abs(want[i] - got[i]));
            }
            assertTrue(src + " -> " + dst + " n=" + n + ": max difference " + maxErr, maxErr <= tol);
        }
    }

    @Test
    public void streamingInRandomPiecesEqualsWholeSignal() throws Exception {
        float[] x = noise(30011, 9);
        for (int[] p : new int[][] {{44100, 16000}, {8000, 16000}, {44101, 16000}}) {
            float[] whole = Resampler.resample(x, p[0], p[1]);
            ResamplingSource s = new ResamplingSource(new ChunkySource(x, new Random(p[0]), 700), p[0], p[1]);
            float[] streamed = new float[whole.length + 10];
            Random rnd = new Random(1);
            int n = 0;
            int got;
            while ((got = s.read(streamed, n, Math.min(1 + rnd.nextInt(300), streamed.length - n))) > 0) {
                n += got;
            }
            assertEquals(-1, got);
            assertEquals(whole.length, n);
            assertEquals(n, s.samplesOut());
            for (int i = 0; i < n; i++) {
                assertEquals("sample " + i, whole[i], streamed[i], 0f);
            }
        }
    }

    @Test
    public void outputIsClippedToFullScale() {
        float[] square = new float[4410];
        for (int i = 0; i < square.length; i++) {
            square[i] = (i / 50) % 2 == 0 ? 1f : -1f; // overshoots (Gibbs) when band-limited
        }
        float[] y = Resampler.resample(square, 44100, 16000);
        float peak = 0f;
        for (float v : y) {
            peak = Math.max(peak, Math.abs(v));
        }
        assertEquals(1f, peak, 0f);
    }
}
