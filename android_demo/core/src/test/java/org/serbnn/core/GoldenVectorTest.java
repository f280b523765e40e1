package org.serbnn.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.BufferedInputStream;
import java.io.File;
import java.io.FileInputStream;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.json.JSONArray;
import org.json.JSONObject;
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
        JSONObject root = new JSONObject(TestFiles.readUtf8(golden));
        List<String> labels = new ArrayList<String>();
        JSONArray labelsJson = root.getJSONArray("labels");
        for (int i = 0; i < labelsJson.length(); i++) {
            labels.add(labelsJson.getString(i));
        }
        assertEquals(Windowing.SAMPLE_RATE, root.getInt("sample_rate"));
        int window = root.getInt("window_samples");
        assertEquals(Windowing.WINDOW_SAMPLES, window);
        int hop = root.getInt("hop_samples");
        String pooling = Pooling.checkRule(root.optString("pooling", Pooling.MAX));
        JSONArray files = root.getJSONArray("files");
        assertTrue("golden file lists no files", files.length() > 0);

        for (int fi = 0; fi < files.length(); fi++) {
            JSONObject f = files.getJSONObject(fi);
            String rel = f.getString("wav");
            String ctx = rel + ": ";
            WavData wav = WavReader.read(new File(emodb, rel));
            assertEquals(ctx + "sample rate", Windowing.SAMPLE_RATE, wav.sampleRate);
            assertEquals(ctx + "n_samples", f.getInt("n_samples"), wav.frames());

            int[] starts = Windowing.windowStarts(wav.frames(), window, hop);
            assertArrayEquals(ctx + "window_starts", TestFiles.ints(f.getJSONArray("window_starts")), starts);
            float[][] windows = Windowing.segment(wav.samples, window, hop);
            double[] sums = TestFiles.doubles(f.getJSONArray("window_sums"));
            double[] absSums = TestFiles.doubles(f.getJSONArray("window_abs_sums"));
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
            float[] first = TestFiles.floats(f.getJSONArray("first_samples"));
            for (int i = 0; i < first.length; i++) {
                assertEquals(ctx + "sample " + i, first[i], windows[0][i], 1e-7f);
            }

            JSONArray postJson = f.getJSONArray("posteriors");
            assertEquals(ctx + "one posterior per window", windows.length, postJson.length());
            float[][] post = new float[postJson.length()][];
            for (int w = 0; w < post.length; w++) {
                post[w] = TestFiles.floats(postJson.getJSONArray(w));
                assertEquals(ctx + "classes", labels.size(), post[w].length);
            }
            float[] pooled = Pooling.pool(post, pooling);
            assertArrayEquals(ctx + "pooled", TestFiles.floats(f.getJSONArray("pooled")), pooled, 1e-6f);
            assertEquals(ctx + "label", f.getString("label"), labels.get(Pooling.argmax(pooled)));

            // the app's own file path (streamed reading, windows cut on the fly), replaying the golden
            // posteriors for windows that carry the golden fingerprints
            Replay replay = new Replay(windows, post);
            InputStream in = new BufferedInputStream(new FileInputStream(new File(emodb, rel)));
            UtteranceClassifier.Result r;
            try {
                r = new UtteranceClassifier(new ClassifierRunner(replay), labels, Windowing.SAMPLE_RATE, window, hop,
                        0, false, null, null, pooling).classify(WavStream.open(in).at(Windowing.SAMPLE_RATE));
            } finally {
                in.close();
            }
            assertEquals(ctx + "windows classified by the file path", windows.length, replay.calls);
            assertArrayEquals(ctx + "file path pooled", TestFiles.floats(f.getJSONArray("pooled")), r.pooled, 1e-6f);
            assertEquals(ctx + "file path label", f.getString("label"), r.label);
            assertEquals(ctx + "file path samples", f.getInt("n_samples"), r.samples);
        }
    }

    /** Returns the golden posterior of window i, after checking the window is the expected one. */
    private static final class Replay implements Classifier {
        private final float[][] windows;
        private final float[][] posteriors;
        int calls;

        Replay(float[][] windows, float[][] posteriors) {
            this.windows = windows;
            this.posteriors = posteriors;
        }

        @Override
        public float[] classify(float[] w) {
            assertArrayEquals("window " + calls, windows[calls], w, 0f);
            return posteriors[calls++];
        }
    }

    private static void assertClose(String what, double expected, double actual) {
        double tol = SUM_RTOL * Math.max(Math.abs(expected), 1.0);
        if (Math.abs(expected - actual) > tol) {
            throw new AssertionError(what + ": expected " + expected + ", got " + actual);
        }
    }
}
