package org.serbnn.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.Test;

public class UtteranceClassifierTest {
    private static final List<String> LABELS = Arrays.asList("a", "b", "c");

    /** A real (if trivial) model: softmax over [mean, energy, peak] of the window. */
    static final class StatsClassifier implements Classifier {
        int calls;

        @Override
        public float[] classify(float[] w) {
            calls++;
            double mean = 0;
            double energy = 0;
            double peak = 0;
            for (float x : w) {
                mean += x;
                energy += x * (double) x;
                peak = Math.max(peak, Math.abs(x));
            }
            double[] z = {mean / w.length * 50, Math.sqrt(energy / w.length) * 10, peak * 3};
            double max = Math.max(z[0], Math.max(z[1], z[2]));
            double sum = 0;
            float[] p = new float[3];
            for (int i = 0; i < 3; i++) {
                sum += Math.exp(z[i] - max);
            }
            for (int i = 0; i < 3; i++) {
                p[i] = (float) (Math.exp(z[i] - max) / sum);
            }
            return p;
        }
    }

    private static float[] signal(int n, long seed) {
        Random rnd = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (Math.sin(i * 0.3) * 0.4 + rnd.nextGaussian() * 0.05) + 1e-3f;
        }
        return x;
    }

    /** rate 100 Hz: 100 samples are 1 s, windows of 40 samples. */
    private static UtteranceClassifier small(Classifier c, int hop) {
        return new UtteranceClassifier(c, LABELS, 100, 40, hop);
    }

    @Test
    public void classifiesEveryWindowAndMaxPools() throws Exception {
        float[] wave = new float[100];
        for (int i = 0; i < wave.length; i++) {
            wave[i] = (float) Math.sin(i * 0.3) * (i < 50 ? 0.1f : 0.9f) + (i >= 80 ? 0.5f : 0f);
        }
        StatsClassifier model = new StatsClassifier();
        UtteranceClassifier.Result r = small(model, 40).classify(wave);
        assertArrayEquals(new long[] {0, 40, 80}, r.windowStarts);
        assertEquals(3, model.calls);
        StatsClassifier ref = new StatsClassifier();
        float[][] expected = new float[3][];
        for (int i = 0; i < 3; i++) {
            expected[i] = ref.classify(Windowing.window(wave, (int) r.windowStarts[i], 40));
            assertArrayEquals(expected[i], r.posteriors[i], 0f);
        }
        assertArrayEquals(Pooling.maxPool(expected), r.pooled, 0f);
        assertEquals(Pooling.argmax(r.pooled), r.best);
        ModelInfo geo = new ModelInfo(LABELS, 100, 40, 40, 40, null, null, null, null, Pooling.MEAN_LOG);
        UtteranceClassifier.Result g = new UtteranceClassifier(new StatsClassifier(), geo).classify(wave);
        assertEquals(Pooling.MEAN_LOG, new UtteranceClassifier(new StatsClassifier(), geo).pooling());
        assertArrayEquals(Pooling.meanLogPool(expected), g.pooled, 0f);
        assertEquals(Pooling.argmax(g.pooled), g.best);
        assertEquals(LABELS.get(r.best), r.label);
        assertEquals(0, r.silentWindows);
        assertEquals(Collections.<String>emptyList(), r.notes); // exactly 1.0 s: no "short input" note
        assertEquals(100, r.samples);
        assertEquals(1.0, r.durationSeconds(), 0);
    }

    @Test
    public void scoresAreThePooledVectorRenormalised() throws Exception {
        UtteranceClassifier.Result r = small(new StatsClassifier(), 40).classify(signal(300, 1));
        float sum = 0f;
        for (float v : r.pooled) {
            sum += v;
        }
        assertTrue("pooled max does not sum to 1 here", Math.abs(sum - 1f) > 1e-3);
        for (int c = 0; c < r.pooled.length; c++) {
            assertEquals(r.pooled[c] / sum, r.scores[c], 0f);
        }
        assertEquals(Pooling.argmax(r.scores), r.best);
    }

    @Test
    public void allZeroWindowsAreNotClassifiedNorPooled() throws Exception {
        float[] wave = signal(130, 2); // windows at 0, 40, 80 and the padded one at 120
        Arrays.fill(wave, 40, 80, 0f);
        Arrays.fill(wave, 120, 130, 0f);
        StatsClassifier model = new StatsClassifier();
        UtteranceClassifier.Result r = small(model, 40).classify(wave);
        assertArrayEquals(new long[] {0, 80}, r.windowStarts);
        assertEquals(2, model.calls);
        assertEquals(2, r.silentWindows);
        StatsClassifier ref = new StatsClassifier();
        float[][] kept = {ref.classify(Windowing.window(wave, 0, 40)), ref.classify(Windowing.window(wave, 80, 40))};
        assertArrayEquals(Pooling.maxPool(kept), r.pooled, 0f);
        assertEquals(Arrays.asList("2 silent window(s) left out of the pooling"), r.notes);
    }

    @Test
    public void windowWithOneNonZeroSampleIsKept() throws Exception {
        float[] wave = signal(120, 3);
        Arrays.fill(wave, 40, 80, 0f);
        wave[79] = 1f / 32768f;
        assertArrayEquals(new long[] {0, 40, 80}, small(new StatsClassifier(), 40).classify(wave).windowStarts);
    }

    @Test
    public void allZeroRecordingIsRefusedWithoutRunningTheModel() throws Exception {
        StatsClassifier model = new StatsClassifier();
        try {
            small(model, 40).classify(new float[500]);
            fail("classified digital silence");
        } catch (UnusableAudioException e) {
            assertEquals(UnusableAudioException.Reason.NO_SIGNAL, e.reason);
            assertEquals("no signal (every sample is zero), nothing to classify", e.getMessage());
        }
        assertEquals(0, model.calls);
    }

    @Test
    public void recordingShorterThanATenthOfASecondIsRefused() throws Exception {
        StatsClassifier model = new StatsClassifier();
        UtteranceClassifier uc = new UtteranceClassifier(model, LABELS, 16000, 48000, 48000);
        expectTooShort(uc, signal(1599, 4), "too short (0.100 s; need at least 0.1 s)"); // 0.0999 s
        expectTooShort(uc, signal(800, 4), "too short (0.050 s; need at least 0.1 s)");
        expectTooShort(uc, new float[0], "too short (0.000 s; need at least 0.1 s)");
        expectTooShort(uc, new float[800], "too short (0.050 s; need at least 0.1 s)"); // short before silent
        assertEquals(0, model.calls);
        UtteranceClassifier.Result r = uc.classify(signal(1600, 4)); // exactly 0.1 s is enough
        assertEquals(1, model.calls);
        assertEquals(Arrays.asList("short input (0.10 s): the model was trained on utterances of 1.2 s and more"),
                r.notes);
    }

    private static void expectTooShort(UtteranceClassifier uc, float[] wave, String message) {
        try {
            uc.classify(wave);
            fail("classified " + wave.length + " samples");
        } catch (UnusableAudioException e) {
            assertEquals(UnusableAudioException.Reason.TOO_SHORT, e.reason);
            assertEquals(message, e.getMessage());
        }
    }

    @Test
    public void signalOnlyBetweenWindowsIsNoSignal() throws Exception {
        float[] wave = new float[100]; // window 40, hop 60: samples 40..59 are in no window
        wave[50] = 0.5f;
        try {
            small(new StatsClassifier(), 60).classify(wave);
            fail("classified windows that are all zero");
        } catch (UnusableAudioException e) {
            assertEquals(UnusableAudioException.Reason.NO_SIGNAL, e.reason);
        }
    }

    @Test
    public void streamingInRandomPiecesEqualsInMemory() throws Exception {
        float[] wave = signal(1234, 5);
        Arrays.fill(wave, 200, 400, 0f);
        for (int hop : new int[] {40, 17, 55}) {
            UtteranceClassifier.Result a = small(new StatsClassifier(), hop).classify(wave);
            UtteranceClassifier.Result b = small(new StatsClassifier(), hop).classify(
                    new ChunkySource(wave, new Random(hop), 37));
            assertArrayEquals(a.windowStarts, b.windowStarts);
            assertEquals(a.posteriors.length, b.posteriors.length);
            for (int i = 0; i < a.posteriors.length; i++) {
                assertArrayEquals(a.posteriors[i], b.posteriors[i], 0f);
            }
            assertArrayEquals(a.pooled, b.pooled, 0f);
            assertEquals(a.notes, b.notes);
            int[] starts = Windowing.windowStarts(wave.length, 40, hop);
            assertEquals(starts.length, a.windowStarts.length + a.silentWindows);
        }
    }

    @Test
    public void modelNeverSeesTheCuttersBuffer() throws Exception {
        Classifier scribbler = new Classifier() {
            @Override
            public float[] classify(float[] w) {
                float[] p = new StatsClassifier().classify(w);
                Arrays.fill(w, 7f); // a model that writes into its input must not change the next window
                return p;
            }
        };
        float[] wave = signal(200, 6);
        UtteranceClassifier.Result a = small(new StatsClassifier(), 20).classify(wave);
        UtteranceClassifier.Result b = small(scribbler, 20).classify(wave);
        assertArrayEquals(a.pooled, b.pooled, 0f);
    }

    @Test(expected = IllegalStateException.class)
    public void rejectsModelWithWrongClassCount() throws Exception {
        new UtteranceClassifier(new StatsClassifier(), Arrays.asList("a", "b"), 100, 10, 10).classify(signal(50, 7));
    }
}
