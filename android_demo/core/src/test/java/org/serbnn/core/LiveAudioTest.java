package org.serbnn.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.Test;

public class LiveAudioTest {
    @Test
    public void ringBufferKeepsLatestInOrder() {
        RingBuffer r = new RingBuffer(5);
        r.write(new float[] {1, 2, 3}, 0, 3);
        float[] out = new float[3];
        r.latest(3, out, 0);
        assertArrayEquals(new float[] {1, 2, 3}, out, 0f);
        r.write(new float[] {9, 4, 5, 6, 7}, 1, 4); // wraps: holds 3,4,5,6,7
        assertEquals(5, r.size());
        assertEquals(7, r.totalWritten());
        float[] all = new float[5];
        r.latest(5, all, 0);
        assertArrayEquals(new float[] {3, 4, 5, 6, 7}, all, 0f);
        r.write(new float[] {10, 11, 12, 13, 14, 15, 16}, 0, 7); // longer than capacity
        r.latest(5, all, 0);
        assertArrayEquals(new float[] {12, 13, 14, 15, 16}, all, 0f);
        float[] two = new float[4];
        r.latest(2, two, 1);
        assertArrayEquals(new float[] {0, 15, 16, 0}, two, 0f);
    }

    @Test(expected = IllegalArgumentException.class)
    public void ringBufferRefusesMoreThanHeld() {
        RingBuffer r = new RingBuffer(5);
        r.write(new float[] {1, 2}, 0, 2);
        r.latest(3, new float[3], 0);
    }

    /** Random chunking gives exactly the offline windows (hop divides the window). */
    @Test
    public void liveWindowsEqualOfflineWindows() {
        int window = 4800;
        int hop = 1600;
        float[] wave = new float[20000];
        Random rnd = new Random(1);
        for (int i = 0; i < wave.length; i++) {
            wave[i] = rnd.nextFloat() * 2 - 1;
        }
        LiveWindower lw = new LiveWindower(window, hop, 1000);
        List<float[]> got = new ArrayList<float[]>();
        int pos = 0;
        while (pos < wave.length) {
            int n = Math.min(wave.length - pos, 1 + rnd.nextInt(3000));
            lw.push(wave, pos, n);
            pos += n;
            float[] w;
            while ((w = lw.poll()) != null) {
                got.add(w);
            }
        }
        assertEquals(wave.length / hop, got.size());
        for (int k = 1; k <= got.size(); k++) {
            int end = k * hop;
            float[] expected = end >= window ? Windowing.window(wave, end - window, window)
                    : Windowing.window(java.util.Arrays.copyOf(wave, end), 0, window); // short: zero-padded
            assertArrayEquals("window ending at " + end, expected, got.get(k - 1), 0f);
        }
        // windows at k*hop >= window are the offline windows starting at (k*hop - window)
        int[] offline = Windowing.windowStarts(wave.length, window, hop);
        assertArrayEquals(Windowing.window(wave, offline[1], window), got.get((offline[1] + window) / hop - 1), 0f);
    }

    @Test
    public void slowConsumerKeepsNewestWindows() {
        LiveWindower lw = new LiveWindower(4, 2, 1);
        float[] x = {1, 2, 3, 4, 5, 6, 7, 8};
        assertEquals(4, lw.push(x, 0, 8));
        assertEquals(3, lw.dropped());
        assertArrayEquals(new float[] {5, 6, 7, 8}, lw.poll(), 0f);
        assertNull(lw.poll());
        lw.reset();
        assertEquals(0, lw.totalSamples());
        assertEquals(1, lw.push(new float[] {1, 2, 3}, 0, 3));
        assertArrayEquals(new float[] {1, 2, 0, 0}, lw.poll(), 0f);
    }

    @Test
    public void pcm16Conversion() {
        assertEquals(-1f, Pcm16.toFloat((short) -32768), 0f);
        assertEquals(0.5f, Pcm16.toFloat((short) 16384), 0f);
        float[] out = new float[4];
        Pcm16.toFloat(new short[] {9, 32767, -1, 9}, 1, 2, out, 2);
        assertArrayEquals(new float[] {0, 0, 32767f / 32768f, -1f / 32768f}, out, 0f);
        assertEquals(-2, Pcm16.readLittleEndian(new byte[] {(byte) 0xfe, (byte) 0xff}, 0));
    }
}
