package org.serbnn.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.ByteArrayInputStream;
import org.junit.Test;

public class WavReaderTest {
    private static final short[] MONO = {0, 1, -1, 32767, -32768, 16384, -16384};

    private static float[] expectedMono() {
        float[] e = new float[MONO.length];
        for (int i = 0; i < e.length; i++) {
            e[i] = MONO[i] / 32768f;
        }
        return e;
    }

    @Test
    public void readsMonoPcm16() throws Exception {
        byte[] b = new TestFiles.Wav().fmt(1, 1, 16000, 16).data16(MONO).bytes();
        WavData w = WavReader.read(new ByteArrayInputStream(b));
        assertEquals(16000, w.sampleRate);
        assertEquals(1, w.channels);
        assertArrayEquals(expectedMono(), w.samples, 0f);
        assertEquals(-1.0f, w.samples[4], 0f);
        assertEquals(32767f / 32768f, w.samples[3], 0f);
    }

    @Test
    public void skipsUnknownChunksIncludingOddSizedPad() throws Exception {
        byte[] pad = new byte[4043]; // odd: RIFF inserts a pad byte after it
        for (int i = 0; i < pad.length; i++) {
            pad[i] = (byte) 0x7f;
        }
        byte[] b = new TestFiles.Wav().chunk("LIST", new byte[] {1, 2, 3, 4}).fmt(1, 1, 16000, 16)
                .chunk("PAD ", pad).chunk("fact", new byte[] {9, 9, 9, 9}).data16(MONO).bytes();
        assertArrayEquals(expectedMono(), WavReader.parse(b).samples, 0f);
    }

    @Test
    public void stereoIsAveragedToMono() throws Exception {
        short[] st = {1000, 3000, -32768, 32767, 100, 100};
        WavData w = WavReader.parse(new TestFiles.Wav().fmt(1, 2, 22050, 16).data16(st).bytes());
        assertEquals(2, w.channels);
        assertEquals(22050, w.sampleRate);
        assertArrayEquals(new float[] {2000 / 32768f, -0.5f / 32768f, 100 / 32768f}, w.samples, 0f);
    }

    @Test
    public void extensiblePcmIsAccepted() throws Exception {
        byte[] b = new TestFiles.Wav().fmtExtensible(1, 16000, 16, 1).data16(MONO).bytes();
        assertArrayEquals(expectedMono(), WavReader.parse(b).samples, 0f);
    }

    @Test
    public void dataSizePastEndOfFileReadsWhatIsThere() throws Exception {
        byte[] payload = new byte[MONO.length * 2];
        for (int i = 0; i < MONO.length; i++) {
            TestFiles.le16(payload, 2 * i, MONO[i]);
        }
        byte[] b = new TestFiles.Wav().fmt(1, 1, 16000, 16).chunkDeclared("data", payload, 0xFFFFFFF0L).bytes();
        assertArrayEquals(expectedMono(), WavReader.parse(b).samples, 0f);
    }

    @Test
    public void rejectsNonPcm16() {
        expectError(new TestFiles.Wav().fmt(3, 1, 16000, 32).data16(MONO).bytes(), "IEEE float");
        expectError(new TestFiles.Wav().fmt(1, 1, 16000, 24).data16(new short[] {1, 2, 3}).bytes(), "24 bits");
        expectError(new TestFiles.Wav().fmt(1, 1, 16000, 8).data16(MONO).bytes(), "8 bits");
        expectError(new TestFiles.Wav().fmt(7, 1, 8000, 8).data16(MONO).bytes(), "mu-law");
        expectError(new TestFiles.Wav().fmtExtensible(1, 16000, 32, 3).data16(MONO).bytes(), "IEEE float");
    }

    @Test
    public void rejectsBrokenFiles() {
        expectError(new byte[] {1, 2, 3}, "not a WAV file");
        expectError("RIFF\0\0\0\0AVI LIST".getBytes(), "not a RIFF/WAVE");
        expectError(new TestFiles.Wav().data16(MONO).bytes(), "no fmt chunk");
        expectError(new TestFiles.Wav().fmt(1, 1, 16000, 16).bytes(), "no data chunk");
        byte[] rifx = new TestFiles.Wav().fmt(1, 1, 16000, 16).data16(MONO).bytes();
        rifx[3] = 'X';
        expectError(rifx, "RIFX");
    }

    private static void expectError(byte[] b, String fragment) {
        try {
            WavReader.parse(b);
            fail("expected WavFormatException containing '" + fragment + "'");
        } catch (WavFormatException e) {
            assertTrue(e.getMessage(), e.getMessage().contains(fragment));
        }
    }
}
