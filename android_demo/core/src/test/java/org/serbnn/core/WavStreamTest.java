package org.serbnn.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Collections;
import java.util.Random;
import org.junit.Test;

/** The streaming decoder: same samples as a whole-file read, for any read pattern and any file length. */
public class WavStreamTest {
    /** An InputStream that returns one byte per read and never skips (the slowest legal stream). */
    static final class Trickle extends InputStream {
        private final byte[] b;
        private int pos;

        Trickle(byte[] b) {
            this.b = b;
        }

        @Override
        public int read() {
            return pos < b.length ? b[pos++] & 0xff : -1;
        }

        @Override
        public int read(byte[] dst, int off, int len) {
            if (len == 0) {
                return 0;
            }
            int c = read();
            if (c < 0) {
                return -1;
            }
            dst[off] = (byte) c;
            return 1;
        }

        @Override
        public long skip(long n) {
            return 0;
        }
    }

    /**
     * A 16 kHz mono PCM16 WAV of {@code dataBytes} bytes generated on the fly: nothing is held in memory.
     * Sample i is ((i * 7919) % 2001) - 1000, never all zero over a window.
     */
    static final class GeneratedWav extends InputStream {
        private final byte[] header;
        private final long total;
        private long pos;

        GeneratedWav(long dataBytes) {
            byte[] fmt = new TestFiles.Wav().fmt(1, 1, 16000, 16).bytes();
            header = Arrays.copyOf(fmt, fmt.length + 8);
            byte[] data = {'d', 'a', 't', 'a'};
            System.arraycopy(data, 0, header, fmt.length, 4);
            TestFiles.le32(header, fmt.length + 4, (int) dataBytes);
            TestFiles.le32(header, 4, (int) (header.length - 8 + dataBytes));
            total = header.length + dataBytes;
        }

        static short sample(long i) {
            return (short) (((i * 7919) % 2001) - 1000);
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] dst, int off, int len) {
            if (pos >= total) {
                return -1;
            }
            int n = (int) Math.min(len, total - pos);
            for (int k = 0; k < n; k++, pos++) {
                if (pos < header.length) {
                    dst[off + k] = header[(int) pos];
                } else {
                    long d = pos - header.length;
                    short s = sample(d / 2);
                    dst[off + k] = (byte) ((d & 1) == 0 ? s : s >> 8);
                }
            }
            return n;
        }
    }

    private static byte[] stereoWithChunks(int frames) {
        Random rnd = new Random(frames);
        short[] st = new short[2 * frames];
        for (int i = 0; i < st.length; i++) {
            st[i] = (short) (rnd.nextInt(65536) - 32768);
        }
        return new TestFiles.Wav().chunk("LIST", new byte[] {1, 2, 3}).fmt(1, 2, 22050, 16)
                .chunk("PAD ", new byte[777]).data16(st).chunk("junk", new byte[5]).bytes();
    }

    @Test
    public void anyReadPatternGivesTheWholeFileSamples() throws Exception {
        byte[] b = stereoWithChunks(5003);
        float[] whole = WavReader.parse(b).samples;
        WavStream s = WavStream.open(new Trickle(b));
        assertEquals(22050, s.sampleRate);
        assertEquals(2, s.channels);
        Random rnd = new Random(2);
        float[] got = new float[whole.length + 5];
        int n = 0;
        int k;
        while ((k = s.read(got, n, Math.min(1 + rnd.nextInt(9000), got.length - n))) > 0) {
            n += k;
        }
        assertEquals(-1, k);
        assertEquals(whole.length, n);
        assertEquals(n, s.framesRead());
        assertArrayEquals(whole, Arrays.copyOf(got, n), 0f);
    }

    @Test
    public void partialFrameAtTheEndIsDropped() throws Exception {
        byte[] payload = {1, 0, 2, 0, 3}; // two frames and one odd byte, declared longer than the file
        byte[] b = new TestFiles.Wav().fmt(1, 1, 16000, 16).chunkDeclared("data", payload, 1000).bytes();
        WavStream s = WavStream.open(new ByteArrayInputStream(Arrays.copyOf(b, b.length - 1))); // no pad byte
        float[] out = new float[10];
        assertEquals(2, s.read(out, 0, 10));
        assertEquals(-1, s.read(out, 0, 10));
        assertArrayEquals(new float[] {1 / 32768f, 2 / 32768f}, Arrays.copyOf(out, 2), 0f);
    }

    @Test
    public void fmtAfterDataIsRefusedByName() {
        byte[] b = new TestFiles.Wav().data16(new short[] {1, 2}).fmt(1, 1, 16000, 16).bytes();
        try {
            WavStream.open(new ByteArrayInputStream(b));
            fail("read a WAV whose fmt chunk follows its data");
        } catch (IOException e) {
            assertTrue(e.getMessage(), e instanceof WavFormatException && e.getMessage().contains("after the data"));
        }
    }

    /**
     * File mode streams: a WAV larger than the old whole-file limit (and than this JVM's heap, which
     * tests/test_android_core.py caps at 128 MiB) is classified window by window.
     */
    @Test
    public void fileLargerThanTheHeapIsClassifiedAsAStream() throws Exception {
        long dataBytes = 160L * 1024 * 1024; // 83.9 M samples, 87 min at 16 kHz
        assertTrue(dataBytes > WavReader.MAX_BYTES);
        assertTrue("run with -Xmx128m (heap " + Runtime.getRuntime().maxMemory() + ")",
                dataBytes > Runtime.getRuntime().maxMemory());
        final long[] calls = {0};
        Classifier count = new Classifier() {
            @Override
            public float[] classify(float[] w) {
                calls[0]++;
                return new float[] {w[0] + 2f, w[1] + 2f};
            }
        };
        WavStream wav = WavStream.open(new GeneratedWav(dataBytes));
        UtteranceClassifier.Result r = new UtteranceClassifier(count, Arrays.asList("x", "y"), 16000,
                48000, 48000).classify(wav.at(16000));
        long n = dataBytes / 2;
        assertEquals(n, r.samples);
        assertEquals(Windowing.windowStarts((int) n, 48000, 48000).length, calls[0]);
        assertEquals(calls[0], r.windowStarts.length);
        assertEquals(Collections.<String>emptyList(), r.notes);
        long last = r.windowStarts[r.windowStarts.length - 1];
        assertEquals(GeneratedWav.sample(last) / 32768f + 2f, r.posteriors[r.posteriors.length - 1][0], 0f);
    }
}
