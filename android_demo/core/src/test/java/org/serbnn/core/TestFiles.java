package org.serbnn.core;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.file.Files;
import org.json.JSONArray;
import org.json.JSONException;

/** Helpers shared by the tests: system properties, file reading and WAV byte building. */
final class TestFiles {
    private TestFiles() {
    }

    /** A required system property naming an existing file or directory (set by the test runner). */
    static File requiredPath(String property) {
        String v = System.getProperty(property);
        if (v == null || v.isEmpty()) {
            throw new AssertionError("system property " + property + " is not set (see tests/test_android_core.py)");
        }
        File f = new File(v);
        if (!f.exists()) {
            throw new AssertionError(property + " points to a missing path: " + f);
        }
        return f;
    }

    static String readUtf8(File f) throws IOException {
        return new String(Files.readAllBytes(f.toPath()), Charset.forName("UTF-8"));
    }

    static int[] ints(JSONArray a) throws JSONException {
        int[] out = new int[a.length()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.getInt(i);
        }
        return out;
    }

    static double[] doubles(JSONArray a) throws JSONException {
        double[] out = new double[a.length()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.getDouble(i);
        }
        return out;
    }

    static float[] floats(JSONArray a) throws JSONException {
        float[] out = new float[a.length()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) a.getDouble(i);
        }
        return out;
    }

    /** Builder of RIFF/WAVE byte streams with arbitrary chunks. */
    static final class Wav {
        private final ByteArrayOutputStream body = new ByteArrayOutputStream();

        Wav fmt(int format, int channels, int rate, int bits) {
            int align = channels * bits / 8;
            byte[] b = new byte[16];
            le16(b, 0, format);
            le16(b, 2, channels);
            le32(b, 4, rate);
            le32(b, 8, rate * align);
            le16(b, 12, align);
            le16(b, 14, bits);
            return chunk("fmt ", b);
        }

        Wav fmtExtensible(int channels, int rate, int bits, int subFormat) {
            int align = channels * bits / 8;
            byte[] b = new byte[40];
            le16(b, 0, 0xFFFE);
            le16(b, 2, channels);
            le32(b, 4, rate);
            le32(b, 8, rate * align);
            le16(b, 12, align);
            le16(b, 14, bits);
            le16(b, 16, 22);
            le16(b, 18, bits);
            le32(b, 20, channels == 1 ? 4 : 3);
            le16(b, 24, subFormat); // rest of the GUID: 00 00 00 00 10 00 80 00 00 AA 00 38 9B 71
            byte[] tail = {0, 0, 0, 0, 0x10, 0, (byte) 0x80, 0, 0, (byte) 0xAA, 0, 0x38, (byte) 0x9B, 0x71};
            System.arraycopy(tail, 0, b, 26, tail.length);
            return chunk("fmt ", b);
        }

        Wav data16(short[] interleaved) {
            byte[] b = new byte[interleaved.length * 2];
            for (int i = 0; i < interleaved.length; i++) {
                le16(b, 2 * i, interleaved[i]);
            }
            return chunk("data", b);
        }

        /** A chunk with its declared size; odd sizes get RIFF's pad byte. */
        Wav chunk(String id, byte[] payload) {
            return chunkDeclared(id, payload, payload.length);
        }

        Wav chunkDeclared(String id, byte[] payload, long declaredSize) {
            byte[] h = new byte[8];
            for (int i = 0; i < 4; i++) {
                h[i] = (byte) id.charAt(i);
            }
            le32(h, 4, (int) declaredSize);
            body.write(h, 0, 8);
            body.write(payload, 0, payload.length);
            if ((payload.length & 1) == 1) {
                body.write(0);
            }
            return this;
        }

        byte[] bytes() {
            byte[] b = body.toByteArray();
            byte[] out = new byte[12 + b.length];
            out[0] = 'R';
            out[1] = 'I';
            out[2] = 'F';
            out[3] = 'F';
            le32(out, 4, 4 + b.length);
            out[8] = 'W';
            out[9] = 'A';
            out[10] = 'V';
            out[11] = 'E';
            System.arraycopy(b, 0, out, 12, b.length);
            return out;
        }
    }

    static void le16(byte[] b, int p, int v) {
        b[p] = (byte) v;
        b[p + 1] = (byte) (v >> 8);
    }

    static void le32(byte[] b, int p, int v) {
        b[p] = (byte) v;
        b[p + 1] = (byte) (v >> 8);
        b[p + 2] = (byte) (v >> 16);
        b[p + 3] = (byte) (v >> 24);
    }
}
