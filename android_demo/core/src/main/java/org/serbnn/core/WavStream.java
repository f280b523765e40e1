package org.serbnn.core;

import java.io.IOException;
import java.io.InputStream;

/**
 * Streaming RIFF/WAVE decoder for 16-bit PCM (mono, stereo or more channels, averaged to mono): reads
 * the header up to the data chunk, then hands out the samples piece by piece, so memory stays a few
 * kilobytes whatever the file's length.
 *
 * <p>Walks the chunk list and skips every chunk it does not need (LIST, fact, Emo-DB's {@code PAD }
 * chunk, ...), honouring RIFF's pad byte after odd-sized chunks. A data chunk whose declared size runs
 * past the end of the file (streamed or truncated files) is read up to the end; a trailing partial
 * frame is dropped. The fmt chunk must come before the data chunk (as every writer puts it). Anything
 * but 16-bit integer PCM (format tag 1, or WAVE_FORMAT_EXTENSIBLE with the PCM sub-format) is rejected
 * with a {@link WavFormatException} naming what was found. Samples are {@code x / 32768} ({@link Pcm16}),
 * as soundfile reads them.
 */
public final class WavStream implements SampleSource {
    private static final int FORMAT_PCM = 1;
    private static final int FORMAT_IEEE_FLOAT = 3;
    private static final int FORMAT_ALAW = 6;
    private static final int FORMAT_MULAW = 7;
    private static final int FORMAT_EXTENSIBLE = 0xFFFE;
    private static final int BLOCK_FRAMES = 4096;

    public final int sampleRate;
    public final int channels;
    /** Bytes the data chunk declares (may exceed what the file holds). */
    public final long declaredDataBytes;

    private final InputStream in;
    private final byte[] block;
    private long dataLeft;
    private long framesRead;
    private boolean ended;

    private WavStream(InputStream in, int sampleRate, int channels, long dataBytes) {
        this.in = in;
        this.sampleRate = sampleRate;
        this.channels = channels;
        this.declaredDataBytes = dataBytes;
        this.dataLeft = dataBytes;
        this.block = new byte[BLOCK_FRAMES * 2 * channels];
    }

    /**
     * Read the header of {@code in} up to the start of the samples. The caller closes {@code in}; wrap
     * unbuffered streams in a {@link java.io.BufferedInputStream}.
     */
    public static WavStream open(InputStream in) throws IOException {
        byte[] head = new byte[12];
        int got = readUpTo(in, head, 0, 12);
        if (got < 12) {
            throw new WavFormatException("not a WAV file: only " + got + " bytes");
        }
        String riff = fourcc(head, 0);
        if (!"RIFF".equals(riff) || !"WAVE".equals(fourcc(head, 8))) {
            if ("RIFX".equals(riff) || "RF64".equals(riff)) {
                throw new WavFormatException("unsupported WAV container " + riff + " (need little-endian RIFF)");
            }
            throw new WavFormatException("not a RIFF/WAVE file");
        }
        int channels = -1;
        int sampleRate = 0;
        boolean dataBeforeFmt = false;
        byte[] hdr = new byte[8];
        while (readUpTo(in, hdr, 0, 8) == 8) {
            String id = fourcc(hdr, 0);
            long size = u32(hdr, 4);
            if ("fmt ".equals(id)) {
                if (size < 16) {
                    throw new WavFormatException("truncated fmt chunk (" + size + " bytes)");
                }
                byte[] fmt = new byte[(int) Math.min(size, 40)];
                int fmtBytes = readUpTo(in, fmt, 0, fmt.length);
                if (fmtBytes < 16) {
                    throw new WavFormatException("truncated fmt chunk (" + size + " bytes)");
                }
                if (dataBeforeFmt) {
                    throw new WavFormatException("fmt chunk after the data chunk (not supported)");
                }
                int format = u16(fmt, 0);
                channels = u16(fmt, 2);
                sampleRate = (int) Math.min(Integer.MAX_VALUE, u32(fmt, 4));
                int blockAlign = u16(fmt, 12);
                int bits = u16(fmt, 14);
                if (format == FORMAT_EXTENSIBLE) {
                    if (size < 40 || fmtBytes < 40) {
                        throw new WavFormatException("truncated WAVE_FORMAT_EXTENSIBLE fmt chunk");
                    }
                    format = u16(fmt, 24); // first two bytes of the sub-format GUID are the format tag
                }
                checkFormat(format, bits, channels, blockAlign, sampleRate);
                skip(in, size - fmt.length + (size & 1));
            } else if ("data".equals(id)) {
                if (channels < 0) {
                    dataBeforeFmt = true; // keep looking: name the real problem (no fmt, or fmt too late)
                    skip(in, size + (size & 1));
                    continue;
                }
                return new WavStream(in, sampleRate, channels, size);
            } else {
                skip(in, size + (size & 1));
            }
        }
        if (channels < 0) {
            throw new WavFormatException("no fmt chunk in WAV file");
        }
        throw new WavFormatException("no data chunk in WAV file");
    }

    /** Frames (mono samples) handed out so far. */
    public long framesRead() {
        return framesRead;
    }

    /** Mono samples, channels averaged; -1 once the data chunk (or the file) ends. */
    @Override
    public int read(float[] dst, int off, int len) throws IOException {
        if (off < 0 || len < 0 || off + len > dst.length) {
            throw new IndexOutOfBoundsException("read(" + off + ", " + len + ") into array of " + dst.length);
        }
        if (len == 0) {
            return 0;
        }
        int frameBytes = 2 * channels;
        if (ended || dataLeft < frameBytes) {
            ended = true;
            return -1;
        }
        int wanted = (int) Math.min(Math.min(len, BLOCK_FRAMES), dataLeft / frameBytes) * frameBytes;
        int bytes = readUpTo(in, block, 0, wanted);
        if (bytes < wanted) {
            ended = true; // the file ends inside the data chunk: what is there has been read
        }
        dataLeft -= bytes;
        int frames = bytes / frameBytes; // a partial frame at the end of the file is dropped
        if (frames == 0) {
            ended = true;
            return -1;
        }
        if (channels == 1) {
            for (int i = 0; i < frames; i++) {
                dst[off + i] = Pcm16.toFloat(Pcm16.readLittleEndian(block, 2 * i));
            }
        } else {
            for (int i = 0; i < frames; i++) {
                float sum = 0f;
                int base = i * frameBytes;
                for (int c = 0; c < channels; c++) {
                    sum += Pcm16.toFloat(Pcm16.readLittleEndian(block, base + 2 * c));
                }
                dst[off + i] = sum / channels;
            }
        }
        framesRead += frames;
        return frames;
    }

    /** These samples at {@code rate}: this stream if the rate matches, else a resampling view of it. */
    public SampleSource at(int rate) {
        return rate == sampleRate ? this : new ResamplingSource(this, sampleRate, rate);
    }

    private static void checkFormat(int format, int bits, int channels, int blockAlign, int sampleRate)
            throws WavFormatException {
        if (format != FORMAT_PCM || bits != 16) {
            throw new WavFormatException("unsupported WAV encoding: " + formatName(format) + ", " + bits
                    + " bits per sample (only 16-bit PCM is supported)");
        }
        if (channels < 1) {
            throw new WavFormatException("WAV file declares " + channels + " channels");
        }
        if (blockAlign != 2 * channels) {
            throw new WavFormatException("inconsistent WAV header: block align " + blockAlign + " for "
                    + channels + " channels of 16-bit PCM");
        }
        if (sampleRate <= 0) {
            throw new WavFormatException("WAV file declares sample rate " + sampleRate);
        }
    }

    /** Read until {@code len} bytes or the end of the stream; returns the count read. */
    private static int readUpTo(InputStream in, byte[] b, int off, int len) throws IOException {
        int total = 0;
        while (total < len) {
            int n = in.read(b, off + total, len - total);
            if (n < 0) {
                break;
            }
            total += n;
        }
        return total;
    }

    /** Skip {@code n} bytes; stopping early at the end of the stream is fine (the chunk walk then ends). */
    private static void skip(InputStream in, long n) throws IOException {
        byte[] scratch = null;
        while (n > 0) {
            long k = in.skip(n);
            if (k > 0) {
                n -= k;
                continue;
            }
            if (scratch == null) {
                scratch = new byte[8192];
            }
            int r = in.read(scratch, 0, (int) Math.min(n, scratch.length));
            if (r < 0) {
                return;
            }
            n -= r;
        }
    }

    private static String formatName(int tag) {
        switch (tag) {
            case FORMAT_PCM:
                return "integer PCM";
            case FORMAT_IEEE_FLOAT:
                return "IEEE float";
            case FORMAT_ALAW:
                return "A-law";
            case FORMAT_MULAW:
                return "mu-law";
            default:
                return "format tag 0x" + Integer.toHexString(tag);
        }
    }

    private static String fourcc(byte[] b, int p) {
        char[] c = new char[4];
        for (int i = 0; i < 4; i++) {
            c[i] = (char) (b[p + i] & 0xff);
        }
        return new String(c);
    }

    private static int u16(byte[] b, int p) {
        return (b[p] & 0xff) | ((b[p + 1] & 0xff) << 8);
    }

    private static long u32(byte[] b, int p) {
        return (b[p] & 0xffL) | ((b[p + 1] & 0xffL) << 8) | ((b[p + 2] & 0xffL) << 16) | ((b[p + 3] & 0xffL) << 24);
    }
}
