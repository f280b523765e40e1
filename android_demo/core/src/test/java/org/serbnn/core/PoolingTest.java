package org.serbnn.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.fail;

import org.junit.Test;

public class PoolingTest {
    @Test
    public void maxPoolIsPerClassMax() {
        float[][] p = {{0.1f, 0.7f, 0.2f}, {0.6f, 0.1f, 0.3f}, {0.2f, 0.2f, 0.6f}};
        assertArrayEquals(new float[] {0.6f, 0.7f, 0.6f}, Pooling.maxPool(p), 0f);
        assertEquals(1, Pooling.argmax(Pooling.maxPool(p)));
        assertEquals(0, Pooling.argmax(new float[] {0.5f, 0.5f})); // first on ties, as numpy
    }

    @Test
    public void meanLogPoolIsTheGeometricMean() {
        float[][] p = {{0.7f, 0.25f, 0.05f}, {0.7f, 0.25f, 0.05f}, {0.25f, 0.72f, 0.03f}};
        float[] g = Pooling.meanLogPool(p);
        for (int c = 0; c < 3; c++) {
            assertEquals(Math.cbrt((double) p[0][c] * p[1][c] * p[2][c]), g[c], 1e-6);
        }
        assertEquals(1, Pooling.argmax(Pooling.pool(p, Pooling.MAX))); // one confident window decides
        assertEquals(0, Pooling.argmax(Pooling.pool(p, Pooling.MEAN_LOG))); // two agreeing windows decide
        assertArrayEquals(g, Pooling.pool(p, "mean-log"), 0f);
        float[] floored = Pooling.meanLogPool(new float[][] {{0f, 1f}, {1f, 0f}}); // log(0) is floored
        assertEquals(Math.sqrt(Pooling.LOG_FLOOR), floored[0], 1e-9);
    }

    @Test
    public void unknownRuleIsRefused() {
        try {
            Pooling.pool(new float[][] {{1f, 0f}}, "median");
            fail("expected IllegalArgumentException");
        } catch (IllegalArgumentException e) {
            assertEquals("pooling must be \"max\" or \"mean-log\", got \"median\"", e.getMessage());
        }
    }

    @Test(expected = IllegalArgumentException.class)
    public void meanLogPoolRejectsRagged() {
        Pooling.meanLogPool(new float[][] {{1f, 2f}, {1f}});
    }

    @Test(expected = IllegalArgumentException.class)
    public void maxPoolRejectsEmpty() {
        Pooling.maxPool(new float[0][]);
    }

    @Test(expected = IllegalArgumentException.class)
    public void maxPoolRejectsRagged() {
        Pooling.maxPool(new float[][] {{1f, 2f}, {1f}});
    }

    @Test
    public void exponentialSmoothing() {
        PosteriorSmoother s = PosteriorSmoother.exponential(0.25f);
        assertNull(s.current());
        assertArrayEquals(new float[] {1f, 0f}, s.update(new float[] {1f, 0f}), 0f);
        assertArrayEquals(new float[] {0.75f, 0.25f}, s.update(new float[] {0f, 1f}), 1e-7f);
        assertArrayEquals(new float[] {0.5625f, 0.4375f}, s.update(new float[] {0f, 1f}), 1e-7f);
        assertEquals(3, s.count());
        s.reset();
        assertNull(s.current());
        PosteriorSmoother identity = PosteriorSmoother.exponential(1f);
        identity.update(new float[] {0.9f, 0.1f});
        assertArrayEquals(new float[] {0.2f, 0.8f}, identity.update(new float[] {0.2f, 0.8f}), 0f);
    }

    @Test
    public void streamingMaxEqualsOfflineMaxPool() {
        float[][] p = {{0.1f, 0.7f, 0.2f}, {0.6f, 0.1f, 0.3f}, {0.2f, 0.2f, 0.6f}};
        PosteriorSmoother s = PosteriorSmoother.max();
        float[] last = null;
        for (float[] row : p) {
            last = s.update(row);
        }
        assertArrayEquals(Pooling.maxPool(p), last, 0f);
    }

    @Test(expected = IllegalArgumentException.class)
    public void smootherRejectsBadAlpha() {
        PosteriorSmoother.exponential(0f);
    }
}
