package org.serbnn.core;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Minimal RIFF/WAVE reader for 16-bit PCM (mono, stereo or more channels, averaged to mono).
 *
 * <p>Walks the chunk list and skips every chunk it does not need (LIST, fact, Emo-DB's {@code PAD }
 * chunk, ...), honouring RIFF's pad byte after odd-sized chunks. A data chunk whose declared size runs
 * past the end of the file (streamed or truncated files) is read up to the end. Anything but 16-bit
 * integer PCM (format tag 1, or WAVE_FORMAT_EXTENSIBLE with the PCM sub-format) is rejected with a
 * {@link WavFormatException} naming what was found.
 */
public final class WavReader {
    /** Refuse files over this size (about 17 min of 16 kHz stereo) rather than run out of memory. */
    public static final int MAX_BYTES = 64 * 1024 * 1024;

    private static final int FORMAT_PCM = 1;
    private static final int FORMAT_IEEE_FLOAT = 3;
    private static final int FORMAT_ALAW = 6;
    private static final int FORMAT_MULAW = 7;
    private static final int FORMAT_EXTENSIBLE = 0xFFFE;

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
        ByteArrayOutputStream buf = new ByteArrayOutputStream(1 << 16);
        byte[] chunk = new byte[1 << 16];
        int n;
        while ((n = in.read(chunk)) != -1) {
            buf.write(chunk, 0, n);
            if (buf.size() > MAX_BYTES) {
                throw new WavFormatException("WAV file too large (over " + (MAX_BYTES >> 20) + " MiB)");
            }
        }
        return parse(buf.toByteArray());
    }

    public static WavData parse(byte[] b) throws WavFormatException {
        if (b.length < 12) {
            throw new WavFormatException("not a WAV file: only " + b.length + " bytes");
        }
        String riff = fourcc(b, 0);
        if (!"RIFF".equals(riff) || !"WAVE".equals(fourcc(b, 8))) {
            if ("RIFX".equals(riff) || "RF64".equals(riff)) {
                throw new WavFormatException("unsupported WAV container " + riff + " (need little-endian RIFF)");
            }
            throw new WavFormatException("not a RIFF/WAVE file");
        }
        int format = -1;
        int channels = 0;
        int sampleRate = 0;
        int blockAlign = 0;
        int bits = 0;
        int dataOff = -1;
        int dataLen = 0;
        long pos = 12;
        while (pos + 8 <= b.length) {
            int p = (int) pos;
            String id = fourcc(b, p);
            long size = u32(b, p + 4);
            long body = pos + 8;
            if ("fmt ".equals(id)) {
                if (size < 16 || body + 16 > b.length) {
                    throw new WavFormatException("truncated fmt chunk (" + size + " bytes)");
                }
                int q = (int) body;
                format = u16(b, q);
                channels = u16(b, q + 2);
                sampleRate = (int) Math.min(Integer.MAX_VALUE, u32(b, q + 4));
                blockAlign = u16(b, q + 12);
                bits = u16(b, q + 14);
                if (format == FORMAT_EXTENSIBLE) {
                    if (size < 40 || body + 40 > b.length) {
                        throw new WavFormatException("truncated WAVE_FORMAT_EXTENSIBLE fmt chunk");
                    }
                    format = u16(b, q + 24); // first two bytes of the sub-format GUID are the format tag
                }
            } else if ("data".equals(id)) {
                dataOff = (int) body;
                dataLen = (int) Math.min(size, b.length - body);
            }
            pos = body + size + (size & 1);
        }
        if (format < 0) {
            throw new WavFormatException("no fmt chunk in WAV file");
        }
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
        if (dataOff < 0) {
            throw new WavFormatException("no data chunk in WAV file");
        }
        int frames = dataLen / blockAlign;
        float[] mono = new float[frames];
        if (channels == 1) {
            for (int i = 0; i < frames; i++) {
                mono[i] = Pcm16.toFloat(Pcm16.readLittleEndian(b, dataOff + 2 * i));
            }
        } else {
            for (int i = 0; i < frames; i++) {
                float sum = 0f;
                int base = dataOff + i * blockAlign;
                for (int c = 0; c < channels; c++) {
                    sum += Pcm16.toFloat(Pcm16.readLittleEndian(b, base + 2 * c));
                }
                mono[i] = sum / channels;
            }
        }
        return new WavData(sampleRate, channels, mono);
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
