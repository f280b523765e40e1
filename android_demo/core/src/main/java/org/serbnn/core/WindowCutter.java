package org.serbnn.core;

import java.io.IOException;
import java.util.Arrays;

/**
 * The windows of {@link Windowing#windowStarts} cut from a {@link SampleSource} as it is read, without
 * knowing its length in advance and holding one window at a time: windows of {@code window} samples at
 * 0, hop, 2*hop, ... while they fit entirely; if the last full window does not reach the end, one more
 * window a hop later, zero-padded; input no longer than one window gives one window at 0, zero-padded.
 *
 * <pre>
 *   WindowCutter c = new WindowCutter(source, window, hop);
 *   while (c.next()) { use(c.window(), c.start()); }
 *   long n = c.samplesRead();   // the source's length, known once next() has returned false
 * </pre>
 */
public final class WindowCutter {
    private final SampleSource source;
    private final int window;
    private final int hop;
    private final float[] buf;
    private final float[] skipBuf;
    /** Samples of {@link #buf} that came from the source (the rest is zero padding). */
    private int filled;
    private long nextStart;
    private long start = -1;
    private long lastFullStart = -1;
    private long read;
    private boolean ended;
    private boolean done;

    public WindowCutter(SampleSource source, int window, int hop) {
        if (window <= 0 || hop <= 0) {
            throw new IllegalArgumentException("window and hop must be positive, got " + window + ", " + hop);
        }
        this.source = source;
        this.window = window;
        this.hop = hop;
        this.buf = new float[window];
        this.skipBuf = hop > window ? new float[Math.min(hop - window, 1 << 14)] : null;
    }

    /** Advance to the next window; false when there is none left. */
    public boolean next() throws IOException {
        if (done) {
            return false;
        }
        long s = nextStart;
        if (start < 0) {
            filled = 0;
        } else if (hop < window) { // overlap: keep the last window - hop samples
            int keep = Math.max(0, filled - hop);
            if (keep > 0) {
                System.arraycopy(buf, hop, buf, 0, keep);
            }
            filled = keep;
        } else { // gap of hop - window samples between windows
            long gap = hop - window;
            while (gap > 0 && !ended) {
                int n = source.read(skipBuf, 0, (int) Math.min(gap, skipBuf.length));
                if (n < 0) {
                    ended = true;
                } else {
                    gap -= n;
                    read += n;
                }
            }
            filled = 0;
        }
        while (filled < window && !ended) {
            int n = source.read(buf, filled, window - filled);
            if (n < 0) {
                ended = true;
            } else {
                filled += n;
                read += n;
            }
        }
        if (filled == window) {
            lastFullStart = s;
        } else {
            boolean paddedTail = s == 0 || lastFullStart + window < read;
            done = true;
            if (!paddedTail) {
                return false;
            }
            Arrays.fill(buf, filled, window, 0f);
        }
        start = s;
        nextStart = s + hop;
        return true;
    }

    /** The current window (reused by the next call to {@link #next()}). */
    public float[] window() {
        return buf;
    }

    /** Start sample of the current window. */
    public long start() {
        return start;
    }

    /** Samples read from the source so far; its total length once {@link #next()} returned false. */
    public long samplesRead() {
        return read;
    }

    /** True once the source has reported its end: {@link #samplesRead()} is then its length. */
    public boolean sourceEnded() {
        return ended;
    }
}
