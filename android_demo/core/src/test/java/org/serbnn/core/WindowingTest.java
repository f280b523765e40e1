package org.serbnn.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;

import org.junit.Test;

public class WindowingTest {
    @Test
    public void startsFollowThePythonRule() {
        assertArrayEquals(new int[] {0}, Windowing.windowStarts(0, 48000, 48000));
        assertArrayEquals(new int[] {0}, Windowing.windowStarts(30000, 48000, 48000));
        assertArrayEquals(new int[] {0}, Windowing.windowStarts(48000, 48000, 48000));
        assertArrayEquals(new int[] {0, 48000}, Windowing.windowStarts(48001, 48000, 48000));
        assertArrayEquals(new int[] {0, 48000}, Windowing.windowStarts(96000, 48000, 48000));
        assertArrayEquals(new int[] {0, 48000, 96000}, Windowing.windowStarts(143652, 48000, 48000));
        assertArrayEquals(new int[] {0, 16000, 32000, 48000}, Windowing.windowStarts(96000, 48000, 16000));
        assertArrayEquals(new int[] {0, 16000, 32000, 48000, 64000}, Windowing.windowStarts(96001, 48000, 16000));
        // hop longer than the window: samples between windows are skipped, the tail still gets a window
        assertArrayEquals(new int[] {0, 60000}, Windowing.windowStarts(100000, 48000, 60000));
    }

    @Test
    public void windowsAreCopiedAndZeroPadded() {
        float[] wave = new float[10];
        for (int i = 0; i < wave.length; i++) {
            wave[i] = i + 1;
        }
        float[][] w = Windowing.segment(wave, 4, 3);
        assertEquals(3, w.length); // starts 0, 3, 6; 6 + 4 == 10 covers the end
        assertArrayEquals(new float[] {1, 2, 3, 4}, w[0], 0f);
        assertArrayEquals(new float[] {7, 8, 9, 10}, w[2], 0f);
        float[][] v = Windowing.segment(wave, 4, 4); // starts 0, 4, then 8 padded
        assertArrayEquals(new float[] {9, 10, 0, 0}, v[2], 0f);
        float[][] s = Windowing.segment(new float[] {5, 6}, 4, 4);
        assertEquals(1, s.length);
        assertArrayEquals(new float[] {5, 6, 0, 0}, s[0], 0f);
        wave[0] = -1; // windows are copies
        assertEquals(1f, w[0][0], 0f);
    }

    @Test
    public void hopSecondsToSamples() {
        assertEquals(8000, Windowing.hopSamples(0.5, 16000));
        assertEquals(48000, Windowing.hopSamples(3.0, 16000));
    }

    @Test(expected = IllegalArgumentException.class)
    public void rejectsZeroHop() {
        Windowing.windowStarts(100, 10, 0);
    }
}
