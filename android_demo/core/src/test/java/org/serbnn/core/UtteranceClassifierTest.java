package org.serbnn.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;

import java.util.Arrays;
import java.util.List;
import org.junit.Test;

public class UtteranceClassifierTest {
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

    @Test
    public void classifiesEveryWindowAndMaxPools() {
        float[] wave = new float[100];
        for (int i = 0; i < wave.length; i++) {
            wave[i] = (float) Math.sin(i * 0.3) * (i < 50 ? 0.1f : 0.9f) + (i >= 80 ? 0.5f : 0f);
        }
        List<String> labels = Arrays.asList("a", "b", "c");
        StatsClassifier model = new StatsClassifier();
        UtteranceClassifier.Result r = new UtteranceClassifier(model, labels, 40, 40).classify(wave);
        assertArrayEquals(new int[] {0, 40, 80}, r.windowStarts);
        assertEquals(3, model.calls);
        StatsClassifier ref = new StatsClassifier();
        float[][] expected = new float[3][];
        for (int i = 0; i < 3; i++) {
            expected[i] = ref.classify(Windowing.window(wave, r.windowStarts[i], 40));
            assertArrayEquals(expected[i], r.posteriors[i], 0f);
        }
        assertArrayEquals(Pooling.maxPool(expected), r.pooled, 0f);
        assertEquals(Pooling.argmax(r.pooled), r.best);
        assertEquals(labels.get(r.best), r.label);
    }

    @Test(expected = IllegalStateException.class)
    public void rejectsModelWithWrongClassCount() {
        new UtteranceClassifier(new StatsClassifier(), Arrays.asList("a", "b"), 10, 10).classify(new float[5]);
    }
}
