package org.serbnn.core;

import java.util.ArrayDeque;

/**
 * Cuts a live sample stream into model windows every {@code hop} samples.
 *
 * <p>A window is taken each time the stream reaches a multiple of {@code hop} samples: it holds the
 * latest {@code window} samples (the window ending at k*hop starts at k*hop - window, so with a hop that
 * divides the window these are exactly the offline {@link Windowing} windows). Before a full window has
 * arrived, the samples so far are placed at the start and zero-padded, as offline input shorter than one
 * window. Chunks may be of any size: they are split at the hop boundaries. At most {@code maxPending}
 * windows wait for the consumer; when it falls behind, the oldest are dropped (counted in
 * {@link #dropped()}), so live output stays current.
 */
public final class LiveWindower {
    private final int window;
    private final int hop;
    private final int maxPending;
    private final RingBuffer ring;
    private final ArrayDeque<float[]> pending = new ArrayDeque<float[]>();
    private long nextBoundary;
    private long dropped;

    public LiveWindower(int window, int hop, int maxPending) {
        if (window <= 0 || hop <= 0 || maxPending <= 0) {
            throw new IllegalArgumentException("window, hop and maxPending must be positive, got "
                    + window + ", " + hop + ", " + maxPending);
        }
        this.window = window;
        this.hop = hop;
        this.maxPending = maxPending;
        this.ring = new RingBuffer(window);
        this.nextBoundary = hop;
    }

    public int window() {
        return window;
    }

    public int hop() {
        return hop;
    }

    /** Feed samples; returns how many windows became due while consuming them. */
    public synchronized int push(float[] src, int off, int len) {
        int added = 0;
        while (len > 0) {
            int n = (int) Math.min(len, nextBoundary - ring.totalWritten());
            ring.write(src, off, n);
            off += n;
            len -= n;
            if (ring.totalWritten() == nextBoundary) {
                pending.addLast(snapshot());
                added++;
                if (pending.size() > maxPending) {
                    pending.removeFirst();
                    dropped++;
                }
                nextBoundary += hop;
            }
        }
        return added;
    }

    /** Oldest waiting window, or null. */
    public synchronized float[] poll() {
        return pending.pollFirst();
    }

    public synchronized int pendingCount() {
        return pending.size();
    }

    public synchronized long dropped() {
        return dropped;
    }

    public synchronized long totalSamples() {
        return ring.totalWritten();
    }

    /** Current content as a model window (latest samples, zero-padded at the end while short). */
    public synchronized float[] snapshot() {
        float[] out = new float[window];
        ring.latest(ring.size(), out, 0);
        return out;
    }

    public synchronized void reset() {
        ring.clear();
        pending.clear();
        nextBoundary = hop;
        dropped = 0;
    }
}
