package org.serbnn.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

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
 * File mode against {@code ser-bnn predict}: the pytest driver runs {@code ser_bnn.predict.predict_file}
 * (with a stand-in network, tests/android_predict_parity.py) over small WAVs and writes its decisions
 * (system property serbnn.predict: predict_parity.json, the WAVs beside it). The app's file path,
 * {@link WavStream} then {@link UtteranceClassifier}, must reach the same ones: the same refusals with
 * the same message (too short, no signal), the same classified window starts (all-zero windows
 * dropped), posteriors, pooled vector, scores, label and notes. Resampled files go through soxr in
 * Python and {@link ResamplingSource} here: compared with a tolerance.
 */
public class PredictParityTest {
    private static final float EXACT_TOL = 1e-6f;
    private static final float RESAMPLED_TOL = 2e-3f;

    /** The stand-in network of tests/android_predict_parity.py, in double precision as numpy computes it. */
    static final class StandIn implements Classifier {
        private final double[] scales;
        private final double[][] weights;
        int calls;

        StandIn(JSONObject spec) throws Exception {
            JSONArray s = spec.getJSONArray("feature_scales");
            scales = new double[] {s.getDouble(0), s.getDouble(1), s.getDouble(2)};
            JSONArray w = spec.getJSONArray("weights");
            weights = new double[w.length()][];
            for (int i = 0; i < weights.length; i++) {
                weights[i] = TestFiles.doubles(w.getJSONArray(i));
            }
        }

        @Override
        public float[] classify(float[] window) {
            calls++;
            double sum = 0;
            double sq = 0;
            double peak = 0;
            for (float x : window) {
                sum += x;
                sq += x * (double) x;
                peak = Math.max(peak, Math.abs((double) x));
            }
            double[] feats = {scales[0] * sum / window.length, scales[1] * Math.sqrt(sq / window.length),
                scales[2] * peak, 1.0};
            int nc = weights[0].length;
            double[] logits = new double[nc];
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < nc; c++) {
                for (int f = 0; f < feats.length; f++) {
                    logits[c] += feats[f] * weights[f][c];
                }
                max = Math.max(max, logits[c]);
            }
            double z = 0;
            for (int c = 0; c < nc; c++) {
                logits[c] = Math.exp(logits[c] - max);
                z += logits[c];
            }
            float[] p = new float[nc];
            for (int c = 0; c < nc; c++) {
                p[c] = (float) (logits[c] / z);
            }
            return p;
        }
    }

    @Test
    public void fileModeDecidesAsPredict() throws Exception {
        File json = TestFiles.requiredPath("serbnn.predict");
        JSONObject root = new JSONObject(TestFiles.readUtf8(json));
        List<String> labels = new ArrayList<String>();
        JSONArray l = root.getJSONArray("labels");
        for (int i = 0; i < l.length(); i++) {
            labels.add(l.getString(i));
        }
        int rate = root.getInt("sample_rate");
        int window = root.getInt("window_samples");
        JSONArray files = root.getJSONArray("files");
        assertTrue(files.length() >= 10);
        int refused = 0;
        int dropped = 0;
        for (int fi = 0; fi < files.length(); fi++) {
            JSONObject f = files.getJSONObject(fi);
            String ctx = f.getString("wav") + ": ";
            boolean resampled = f.getBoolean("resampled");
            StandIn model = new StandIn(root.getJSONObject("stand_in"));
            UtteranceClassifier uc = new UtteranceClassifier(model, labels, rate, window, f.getInt("hop_samples"));
            InputStream in = new BufferedInputStream(new FileInputStream(new File(json.getParentFile(), f.getString("wav"))));
            UtteranceClassifier.Result r;
            try {
                WavStream wav = WavStream.open(in);
                assertEquals(ctx + "rate", f.getInt("rate"), wav.sampleRate);
                r = uc.classify(wav.at(rate));
            } catch (UnusableAudioException e) {
                assertTrue(ctx + "Java refused (" + e.getMessage() + "), predict classified it", !f.getBoolean("ok"));
                assertEquals(ctx + "message", f.getString("error"), e.getMessage());
                assertEquals(ctx + "refused without running the model", 0, model.calls);
                refused++;
                continue;
            } finally {
                in.close();
            }
            if (!f.getBoolean("ok")) {
                fail(ctx + "predict refused it (" + f.getString("error") + "), Java classified it as " + r.label);
            }
            float tol = resampled ? RESAMPLED_TOL : EXACT_TOL;
            JSONArray starts = f.getJSONArray("window_starts");
            long[] expectedStarts = new long[starts.length()];
            for (int i = 0; i < expectedStarts.length; i++) {
                expectedStarts[i] = starts.getLong(i);
            }
            assertArrayEquals(ctx + "classified window starts", expectedStarts, r.windowStarts);
            assertEquals(ctx + "model runs", expectedStarts.length, model.calls);
            JSONArray post = f.getJSONArray("window_posteriors");
            for (int w = 0; w < post.length(); w++) {
                assertArrayEquals(ctx + "posterior of window " + w, TestFiles.floats(post.getJSONArray(w)),
                        r.posteriors[w], tol);
            }
            assertArrayEquals(ctx + "pooled_max", TestFiles.floats(f.getJSONArray("pooled_max")), r.pooled, tol);
            assertArrayEquals(ctx + "scores", TestFiles.floats(f.getJSONArray("scores")), r.scores, tol);
            assertEquals(ctx + "emotion", f.getString("emotion"), r.label);
            assertEquals(ctx + "duration (predict rounds to ms)", f.getDouble("duration_s"), r.durationSeconds(),
                    resampled ? 2e-3 : 5e-4 + 1e-12);
            JSONArray notes = f.getJSONArray("notes");
            List<String> expectedNotes = new ArrayList<String>();
            for (int i = 0; i < notes.length(); i++) {
                expectedNotes.add(notes.getString(i));
            }
            assertEquals(ctx + "notes", expectedNotes, r.notes);
            dropped += r.silentWindows;
        }
        assertTrue("the parity set must include refused files", refused >= 5);
        assertTrue("the parity set must include dropped silent windows", dropped >= 3);
    }
}
