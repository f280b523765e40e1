package org.serbnn.core;

import java.io.IOException;

/**
 * Streaming band-limited resampling of a {@link SampleSource} ({@link PolyphaseFilter}: windowed sinc
 * from a per-phase table), holding only the filter's span of input. Samples before the start and past
 * the end of the input count as zeros; the output has ceil(n * dst / src) samples, as librosa/soxr.
 * Outputs are clipped to [-1, 1], as {@code ser_bnn.audio.load_audio} does after resampling.
 */
public final class ResamplingSource implements SampleSource {
    private static final int CHUNK = 4096;

    private final SampleSource in;
    private final PolyphaseFilter filter;
    /** Input samples [bufStart, bufStart + bufLen); bufStart + bufLen == inputCount. */
    private final float[] buf;
    private long bufStart;
    private int bufLen;
    private long inputCount;
    private boolean inputEnded;
    private long outIndex;

    public ResamplingSource(SampleSource in, int srcRate, int dstRate) {
        this.in = in;
        this.filter = new PolyphaseFilter(srcRate, dstRate);
        this.buf = new float[filter.taps + CHUNK];
    }

    /** Samples handed out so far. */
    public long samplesOut() {
        return outIndex;
    }

    @Override
    public int read(float[] dst, int off, int len) throws IOException {
        if (off < 0 || len < 0 || off + len > dst.length) {
            throw new IndexOutOfBoundsException("read(" + off + ", " + len + ") into array of " + dst.length);
        }
        int produced = 0;
        while (produced < len) {
            if (inputEnded && outIndex >= filter.outputLength(inputCount)) {
                break;
            }
            long num = outIndex * filter.down;
            long base = num / filter.up;
            int phase = (int) (num % filter.up);
            long first = base + filter.tapMin; // input index of tap 0
            if (!inputEnded && first + filter.taps > inputCount) {
                fill(first);
                continue;
            }
            int tLo = (int) Math.max(0, -first); // taps before the input's start read zeros
            int tHi = (int) Math.min(filter.taps, inputCount - first); // and past its end, too
            double y = tHi > tLo ? filter.apply(phase, buf, (int) (first - bufStart), tLo, tHi) : 0.0;
            dst[off + produced++] = (float) Math.max(-1.0, Math.min(1.0, y));
            outIndex++;
        }
        return produced == 0 && len > 0 ? -1 : produced;
    }

    /** Drop input before {@code first} (no later output needs it) and read one more piece. */
    private void fill(long first) throws IOException {
        long keepFrom = Math.max(Math.max(first, 0), bufStart);
        int drop = (int) Math.min(keepFrom - bufStart, bufLen);
        if (drop > 0) {
            System.arraycopy(buf, drop, buf, 0, bufLen - drop);
            bufLen -= drop;
            bufStart += drop;
        }
        int n = in.read(buf, bufLen, buf.length - bufLen);
        if (n < 0) {
            inputEnded = true;
            return;
        }
        bufLen += n;
        inputCount += n;
    }
}
