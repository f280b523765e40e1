package org.serbnn.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.Test;

/**
 * Cross-language check against golden vectors written by the Python side (deploy/golden/golden.json,
 * or a file the pytest driver builds): reads the real Emo-DB wav named in each entry with
 * {@link WavReader}, recomputes windows with {@link Windowing}, and pools the golden per-window
 * posteriors with {@link Pooling}. System properties: serbnn.golden (the JSON), serbnn.emodb (the
 * Emo-DB directory holding wav/).
 */
public class GoldenVectorTest {
    private static final double SUM_RTOL = 1e-4;

    @Test
    public void windowsAndPoolingMatchPython() throws Exception {
        File golden = TestFiles.requiredPath("serbnn.golden");
        File emodb = TestFiles.requiredPath("serbnn.emodb");
        Map<String, Object> root = MiniJson.asObject(MiniJson.parse(TestFiles.readUtf8(golden)), "golden");
        List<String> labels = new ArrayList<String>();
        for (Object o : MiniJson.asArray(root.get("labels"), "labels")) {
            labels.add(MiniJson.asString(o, "label"));
        }
        assertEquals(Windowing.SAMPLE_RATE, MiniJson.asInt(root.get("sample_rate"), "sample_rate"));
        int window = MiniJson.asInt(root.get("window_samples"), "window_samples");
        assertEquals(Windowing.WINDOW_SAMPLES, window);
        int hop = MiniJson.asInt(root.get("hop_samples"), "hop_samples");
        List<Object> files = MiniJson.asArray(root.get("files"), "files");
        assertTrue("golden file lists no files", files.size() > 0);

        for (Object fo : files) {
            Map<String, Object> f = MiniJson.asObject(fo, "file");
            String rel = MiniJson.asString(f.get("wav"), "wav");
            String ctx = rel + ": ";
            WavData wav = WavReader.read(new File(emodb, rel));
            assertEquals(ctx + "sample rate", Windowing.SAMPLE_RATE, wav.sampleRate);
            assertEquals(ctx + "n_samples", MiniJson.asInt(f.get("n_samples"), "n_samples"), wav.frames());

            int[] starts = Windowing.windowStarts(wav.frames(), window, hop);
            assertArrayEquals(ctx + "window_starts", MiniJson.asIntArray(f.get("window_starts"), "window_starts"), starts);
            float[][] windows = Windowing.segment(wav.samples, window, hop);
            double[] sums = MiniJson.asDoubleArray(f.get("window_sums"), "window_sums");
            double[] absSums = MiniJson.asDoubleArray(f.get("window_abs_sums"), "window_abs_sums");
            assertEquals(ctx + "number of windows", starts.length, windows.length);
            assertEquals(ctx + "window_sums length", windows.length, sums.length);
            for (int w = 0; w < windows.length; w++) {
                assertEquals(ctx + "window length", window, windows[w].length);
                double s = 0;
                double a = 0;
                for (float x : windows[w]) {
                    s += x;
                    a += Math.abs(x);
                }
                assertClose(ctx + "sum of window " + w, sums[w], s);
                assertClose(ctx + "abs sum of window " + w, absSums[w], a);
            }
            float[] first = MiniJson.asFloatArray(f.get("first_samples"), "first_samples");
            for (int i = 0; i < first.length; i++) {
                assertEquals(ctx + "sample " + i, first[i], windows[0][i], 1e-7f);
            }

            List<Object> postJson = MiniJson.asArray(f.get("posteriors"), "posteriors");
            assertEquals(ctx + "one posterior per window", windows.length, postJson.size());
            float[][] post = new float[postJson.size()][];
            for (int w = 0; w < post.length; w++) {
                post[w] = MiniJson.asFloatArray(postJson.get(w), "posteriors[" + w + "]");
                assertEquals(ctx + "classes", labels.size(), post[w].length);
            }
            float[] pooled = Pooling.maxPool(post);
            assertArrayEquals(ctx + "pooled", MiniJson.asFloatArray(f.get("pooled"), "pooled"), pooled, 1e-6f);
            assertEquals(ctx + "label", MiniJson.asString(f.get("label"), "label"), labels.get(Pooling.argmax(pooled)));
        }
    }

    private static void assertClose(String what, double expected, double actual) {
        double tol = SUM_RTOL * Math.max(Math.abs(expected), 1.0);
        if (Math.abs(expected - actual) > tol) {
            throw new AssertionError(what + ": expected " + expected + ", got " + actual);
        }
    }
}
