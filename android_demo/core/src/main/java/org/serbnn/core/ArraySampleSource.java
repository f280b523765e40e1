package org.serbnn.core;

/** {@link SampleSource} over an in-memory array (tests, and whole-signal helpers such as {@link Resampler}). */
public final class ArraySampleSource implements SampleSource {
    private final float[] samples;
    private int pos;

    public ArraySampleSource(float[] samples) {
        this.samples = samples;
    }

    @Override
    public int read(float[] dst, int off, int len) {
        if (off < 0 || len < 0 || off + len > dst.length) {
            throw new IndexOutOfBoundsException("read(" + off + ", " + len + ") into array of " + dst.length);
        }
        if (pos >= samples.length) {
            return len == 0 ? 0 : -1;
        }
        int n = Math.min(len, samples.length - pos);
        System.arraycopy(samples, pos, dst, off, n);
        pos += n;
        return n;
    }
}
