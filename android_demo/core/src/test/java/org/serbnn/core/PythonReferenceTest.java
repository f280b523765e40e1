package org.serbnn.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.util.List;
import java.util.Map;
import org.junit.Test;

/**
 * Checks against a reference file the pytest driver writes from Python (system property
 * serbnn.reference): window_starts() of ser_bnn.segments for many (n, window, hop) cases, and
 * soundfile's reading (frames, sum, abs sum) of every Emo-DB wav (serbnn.emodb).
 */
public class PythonReferenceTest {
    private static Map<String, Object> reference() throws Exception {
        File ref = TestFiles.requiredPath("serbnn.reference");
        return MiniJson.asObject(MiniJson.parse(TestFiles.readUtf8(ref)), "reference");
    }

    @Test
    public void windowStartsMatchPython() throws Exception {
        List<Object> cases = MiniJson.asArray(reference().get("window_cases"), "window_cases");
        assertTrue(cases.size() > 10);
        for (Object co : cases) {
            Map<String, Object> c = MiniJson.asObject(co, "case");
            int n = MiniJson.asInt(c.get("n"), "n");
            int window = MiniJson.asInt(c.get("window"), "window");
            int hop = MiniJson.asInt(c.get("hop"), "hop");
            assertArrayEquals("n=" + n + " window=" + window + " hop=" + hop,
                    MiniJson.asIntArray(c.get("starts"), "starts"), Windowing.windowStarts(n, window, hop));
        }
    }

    @Test
    public void everyEmoDbWavReadsLikeSoundfile() throws Exception {
        File wavDir = new File(TestFiles.requiredPath("serbnn.emodb"), "wav");
        Map<String, Object> files = MiniJson.asObject(reference().get("emodb_wavs"), "emodb_wavs");
        File[] onDisk = wavDir.listFiles();
        assertTrue(onDisk != null);
        int nWav = 0;
        for (File f : onDisk) {
            if (f.getName().endsWith(".wav")) {
                nWav++;
            }
        }
        assertEquals("wav files on disk vs reference", files.size(), nWav);
        for (Map.Entry<String, Object> e : files.entrySet()) {
            List<Object> v = MiniJson.asArray(e.getValue(), e.getKey());
            WavData wav = WavReader.read(new File(wavDir, e.getKey()));
            assertEquals(e.getKey() + " rate", 16000, wav.sampleRate);
            assertEquals(e.getKey() + " channels", 1, wav.channels);
            assertEquals(e.getKey() + " frames", MiniJson.asInt(v.get(0), "frames"), wav.frames());
            double s = 0;
            double a = 0;
            for (float x : wav.samples) {
                s += x;
                a += Math.abs(x);
            }
            assertEquals(e.getKey() + " sum", MiniJson.asNumber(v.get(1), "sum"), s, 1e-6);
            assertEquals(e.getKey() + " abs sum", MiniJson.asNumber(v.get(2), "abs"), a, 1e-6);
        }
    }
}
