package org.serbnn.core;

import java.util.Random;

/** Test {@link SampleSource}: hands out an array in pieces of random length (1 .. maxPiece), as a slow stream. */
final class ChunkySource implements SampleSource {
    private final float[] samples;
    private final Random rnd;
    private final int maxPiece;
    private int pos;

    ChunkySource(float[] samples, Random rnd, int maxPiece) {
        this.samples = samples;
        this.rnd = rnd;
        this.maxPiece = maxPiece;
    }

    @Override
    public int read(float[] dst, int off, int len) {
        if (len == 0) {
            return 0;
        }
        if (pos >= samples.length) {
            return -1;
        }
        int n = Math.min(Math.min(len, 1 + rnd.nextInt(maxPiece)), samples.length - pos);
        System.arraycopy(samples, pos, dst, off, n);
        pos += n;
        return n;
    }
}
