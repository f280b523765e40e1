package org.serbnn.core;

/**
 * PCM16 to float conversion: {@code x / 32768}, exactly what soundfile/libsndfile do when reading
 * 16-bit PCM as float, so -32768 maps to -1.0 and 32767 to 0.99997.
 */
public final class Pcm16 {
    public static final float SCALE = 1.0f / 32768.0f;

    private Pcm16() {
    }

    public static float toFloat(short s) {
        return s * SCALE;
    }

    /** Convert {@code len} samples of {@code src} starting at {@code off} into {@code dst[dstOff..]}. */
    public static void toFloat(short[] src, int off, int len, float[] dst, int dstOff) {
        for (int i = 0; i < len; i++) {
            dst[dstOff + i] = src[off + i] * SCALE;
        }
    }

    public static float[] toFloat(short[] src) {
        float[] out = new float[src.length];
        toFloat(src, 0, src.length, out, 0);
        return out;
    }

    /** Little-endian signed 16-bit sample at byte offset {@code pos}. */
    public static short readLittleEndian(byte[] b, int pos) {
        return (short) ((b[pos] & 0xff) | (b[pos + 1] << 8));
    }
}
