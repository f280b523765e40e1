package org.serbnn.core;

/**
 * Fixed-capacity float ring buffer for live audio: the writer appends, readers copy the most recent
 * samples in time order. Methods are synchronized so a recording thread and a reader can share it.
 */
public final class RingBuffer {
    private final float[] data;
    private int head; // next write position
    private long written; // total samples ever written

    public RingBuffer(int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity must be positive, got " + capacity);
        }
        data = new float[capacity];
    }

    public int capacity() {
        return data.length;
    }

    /** Samples currently held: min(total written, capacity). */
    public synchronized int size() {
        return (int) Math.min(written, data.length);
    }

    public synchronized long totalWritten() {
        return written;
    }

    /** Append {@code len} samples; older samples are overwritten once the buffer is full. */
    public synchronized void write(float[] src, int off, int len) {
        if (off < 0 || len < 0 || off + len > src.length) {
            throw new IndexOutOfBoundsException("write(" + off + ", " + len + ") on array of " + src.length);
        }
        written += len;
        if (len >= data.length) { // only the last `capacity` samples survive
            System.arraycopy(src, off + len - data.length, data, 0, data.length);
            head = 0;
            return;
        }
        int first = Math.min(len, data.length - head);
        System.arraycopy(src, off, data, head, first);
        System.arraycopy(src, off + first, data, 0, len - first);
        head = (head + len) % data.length;
    }

    /** Copy the most recent {@code n} samples, oldest first, into {@code dst[dstOff..]}. */
    public synchronized void latest(int n, float[] dst, int dstOff) {
        if (n < 0 || n > size()) {
            throw new IllegalArgumentException("asked for " + n + " samples, buffer holds " + size());
        }
        int start = ((head - n) % data.length + data.length) % data.length;
        int first = Math.min(n, data.length - start);
        System.arraycopy(data, start, dst, dstOff, first);
        System.arraycopy(data, 0, dst, dstOff + first, n - first);
    }

    public synchronized void clear() {
        head = 0;
        written = 0;
    }
}
