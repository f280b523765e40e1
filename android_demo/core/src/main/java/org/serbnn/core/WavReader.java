package org.serbnn.core;

import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Whole-file reading of 16-bit PCM WAV (mono, stereo or more channels, averaged to mono) into memory,
 * on top of the streaming decoder {@link WavStream} (same rules, same messages). For files of any
 * length use {@link WavStream} directly, as the app's file mode does.
 */
public final class WavReader {
    /** Whole-file reads refuse more sample data than this (about 17 min of 16 kHz stereo). */
    public static final int MAX_BYTES = 64 * 1024 * 1024;

    private WavReader() {
    }

    public static WavData read(File file) throws IOException {
        InputStream in = new FileInputStream(file);
        try {
            return read(in);
        } finally {
            in.close();
        }
    }

    /** Read a whole WAV stream (the caller closes it). */
    public static WavData read(InputStream in) throws IOException {
        WavStream wav = WavStream.open(in);
        long maxFrames = MAX_BYTES / (2L * wav.channels);
        float[] samples = new float[(int) Math.min(Math.max(wav.declaredDataBytes / (2L * wav.channels), 0),
                Math.min(maxFrames, 1 << 20)) + 1];
        int n = 0;
        while (true) {
            if (n == samples.length) {
                if (n >= maxFrames) {
                    throw new WavFormatException("WAV file too large (over " + (MAX_BYTES >> 20) + " MiB of samples)");
                }
                samples = Arrays.copyOf(samples, (int) Math.min(2L * n, maxFrames + 1));
            }
            int got = wav.read(samples, n, samples.length - n);
            if (got < 0) {
                break;
            }
            n += got;
        }
        return new WavData(wav.sampleRate, wav.channels, Arrays.copyOf(samples, n));
    }

    public static WavData parse(byte[] b) throws WavFormatException {
        try {
            return read(new ByteArrayInputStream(b));
        } catch (WavFormatException e) {
            throw e;
        } catch (IOException e) {
            throw new IllegalStateException("reading from memory failed", e); // ByteArrayInputStream does not throw
        }
    }
}
