package org.serbnn.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.Test;

/** The streaming cutter gives exactly {@link Windowing}'s windows (the rule of ser_bnn/segments.py). */
public class WindowCutterTest {
    static long[] cut(SampleSource src, int window, int hop, List<float[]> windows) throws Exception {
        WindowCutter c = new WindowCutter(src, window, hop);
        List<Long> starts = new ArrayList<Long>();
        while (c.next()) {
            starts.add(c.start());
            if (windows != null) {
                windows.add(c.window().clone());
            }
        }
        assertFalse(c.next());
        long[] out = new long[starts.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = starts.get(i);
        }
        return out;
    }

    private static long[] longs(int[] a) {
        long[] out = new long[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i];
        }
        return out;
    }

    @Test
    public void sameWindowsAsWindowingForManyLengthsAndHops() throws Exception {
        Random rnd = new Random(3);
        int window = 40;
        for (int n : new int[] {0, 1, 39, 40, 41, 79, 80, 81, 100, 119, 120, 121, 333}) {
            float[] wave = new float[n];
            for (int i = 0; i < n; i++) {
                wave[i] = i + 1; // every sample distinct and non-zero
            }
            for (int hop : new int[] {1, 7, 20, 39, 40, 41, 60, 100}) {
                String ctx = "n=" + n + " hop=" + hop;
                List<float[]> got = new ArrayList<float[]>();
                long[] starts = cut(new ChunkySource(wave, rnd, 1 + rnd.nextInt(50)), window, hop, got);
                int[] expected = Windowing.windowStarts(n, window, hop);
                assertArrayEquals(ctx, longs(expected), starts);
                for (int w = 0; w < expected.length; w++) {
                    assertArrayEquals(ctx + " window " + w, Windowing.window(wave, expected[w], window), got.get(w), 0f);
                }
            }
        }
    }

    @Test
    public void reportsTheSourceLengthAtTheEnd() throws Exception {
        WindowCutter c = new WindowCutter(new ArraySampleSource(new float[12345]), 1000, 300);
        int windows = 0;
        while (c.next()) {
            windows++;
        }
        assertEquals(12345, c.samplesRead());
        assertEquals(Windowing.windowStarts(12345, 1000, 300).length, windows);
    }
}
