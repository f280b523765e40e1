package org.serbnn.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.util.Iterator;
import org.json.JSONArray;
import org.json.JSONObject;
import org.junit.Test;

/**
 * Checks against a reference file the pytest driver writes from Python (system property
 * serbnn.reference): window_starts() of ser_bnn.segments for many (n, window, hop) cases, and
 * soundfile's reading (frames, sum, abs sum) of every Emo-DB wav (serbnn.emodb).
 */
public class PythonReferenceTest {
    private static JSONObject reference() throws Exception {
        return new JSONObject(TestFiles.readUtf8(TestFiles.requiredPath("serbnn.reference")));
    }

    @Test
    public void windowStartsMatchPython() throws Exception {
        JSONArray cases = reference().getJSONArray("window_cases");
        assertTrue(cases.length() > 10);
        for (int i = 0; i < cases.length(); i++) {
            JSONObject c = cases.getJSONObject(i);
            int n = c.getInt("n");
            int window = c.getInt("window");
            int hop = c.getInt("hop");
            int[] expected = TestFiles.ints(c.getJSONArray("starts"));
            assertArrayEquals("n=" + n + " window=" + window + " hop=" + hop, expected,
                    Windowing.windowStarts(n, window, hop));
            long[] streamed = WindowCutterTest.cut(new ArraySampleSource(new float[n]), window, hop, null);
            assertEquals("streamed windows, n=" + n + " window=" + window + " hop=" + hop, expected.length,
                    streamed.length);
            for (int k = 0; k < expected.length; k++) {
                assertEquals("streamed start " + k + ", n=" + n + " window=" + window + " hop=" + hop,
                        expected[k], streamed[k]);
            }
        }
    }

    @Test
    public void everyEmoDbWavReadsLikeSoundfile() throws Exception {
        File wavDir = new File(TestFiles.requiredPath("serbnn.emodb"), "wav");
        JSONObject files = reference().getJSONObject("emodb_wavs");
        File[] onDisk = wavDir.listFiles();
        assertTrue(onDisk != null);
        int nWav = 0;
        for (File f : onDisk) {
            if (f.getName().endsWith(".wav")) {
                nWav++;
            }
        }
        assertEquals("wav files on disk vs reference", files.length(), nWav);
        for (Iterator<String> names = files.keys(); names.hasNext();) {
            String name = names.next();
            JSONArray v = files.getJSONArray(name);
            WavData wav = WavReader.read(new File(wavDir, name));
            assertEquals(name + " rate", 16000, wav.sampleRate);
            assertEquals(name + " channels", 1, wav.channels);
            assertEquals(name + " frames", v.getInt(0), wav.frames());
            double s = 0;
            double a = 0;
            for (float x : wav.samples) {
                s += x;
                a += Math.abs(x);
            }
            assertEquals(name + " sum", v.getDouble(1), s, 1e-6);
            assertEquals(name + " abs sum", v.getDouble(2), a, 1e-6);
        }
    }
}
