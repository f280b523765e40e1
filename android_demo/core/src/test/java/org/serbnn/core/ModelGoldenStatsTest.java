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
import org.json.JSONException;
import org.json.JSONObject;
import org.junit.Test;

/**
 * The streaming rule against the golden vectors of an exported speaker-statistics model: system property
 * serbnn.modelGolden names a file in deploy/make_golden.py's layout (deploy/golden/golden_stats.json when
 * it exists; else the pytest driver writes one with make_golden's own stream code and a stand-in network,
 * tests/android_stats_golden.py). Per Emo-DB file, a stream from zero statistics: per window
 * {@code stats_in} (what Python classified it with), the model's {@code window_stats} and
 * {@code speech_frames}, the decision {@code speech}; per file {@code stats_out}.
 * <ul>
 *   <li>{@link SpeakerStream} recomputes {@code stats_in} of every window from the previous windows'
 *       outputs, the same speech decisions and {@code stats_out};</li>
 *   <li>the app's file path ({@link WavStream} + {@link UtteranceClassifier}) over the real wav, with the
 *       model's outputs replayed, passes the float32 form of {@code stats_in} as the model's input on every
 *       window and pools the golden posteriors to the golden label.</li>
 * </ul>
 */
public class ModelGoldenStatsTest {
    /** INTEGRATION.md: stats_in of window k+1 from window k "to ~1e-9 relative". */
    private static final double STATS_RTOL = 1e-9;

    private static double[][] stats3(JSONArray rows) throws JSONException {
        double[][] m = new double[3][];
        for (int r = 0; r < 3; r++) {
            m[r] = TestFiles.doubles(rows.getJSONArray(r));
        }
        return m;
    }

    private static void assertStatsClose(String ctx, double[][] expected, SpeakerStats actual) {
        for (double c : expected[0]) {
            assertEquals(ctx + " count row is one value", expected[0][0], c, 0.0);
        }
        close(ctx + " count", expected[0][0], actual.count());
        double[] sum = actual.sum();
        double[] sumsq = actual.sumsq();
        assertEquals(ctx + " bands", expected[1].length, sum.length);
        for (int b = 0; b < sum.length; b++) {
            close(ctx + " sum[" + b + "]", expected[1][b], sum[b]);
            close(ctx + " sumsq[" + b + "]", expected[2][b], sumsq[b]);
        }
    }

    private static void close(String what, double expected, double actual) {
        if (Math.abs(expected - actual) > STATS_RTOL * Math.max(1.0, Math.abs(expected))) {
            throw new AssertionError(what + ": expected " + expected + ", got " + actual);
        }
    }

    private static JSONObject golden() throws Exception {
        return new JSONObject(TestFiles.readUtf8(TestFiles.requiredPath("serbnn.modelGolden")));
    }

    @Test
    public void streamReproducesStatsAndDecisions() throws Exception {
        JSONObject g = golden();
        JSONObject ruleJson = g.getJSONObject("stats_rule");
        SpeakerStatsRule rule = new SpeakerStatsRule(ruleJson.getDouble("min_stats_frames"),
                ruleJson.getDouble("count_cap"), SpeakerStatsRule.STD_FLOOR, null, null);
        Gating gating = new Gating(ruleJson.getDouble("min_speech_frames"), Gating.ENERGY_FLOOR, Gating.LOG_FLATNESS_MAX);
        JSONArray files = g.getJSONArray("files");
        int windows = 0;
        for (int fi = 0; fi < files.length(); fi++) {
            JSONObject f = files.getJSONObject(fi);
            if (!f.has("stats_in")) {
                continue;
            }
            String ctx = f.getString("wav") + ": ";
            JSONArray statsIn = f.getJSONArray("stats_in");
            int n = statsIn.getJSONArray(0).getJSONArray(0).length();
            SpeakerStream stream = new SpeakerStream(n, true, rule, gating, null);
            for (int k = 0; k < statsIn.length(); k++) {
                String wctx = ctx + "window " + k;
                double[][] expected = stats3(statsIn.getJSONArray(k));
                assertStatsClose(wctx + " stats_in", expected, stream.snapshot());
                SpeakerStream.Ticket t = stream.before();
                for (int r = 0; r < 3; r++) {
                    for (int b = 0; b < n; b++) {
                        assertEquals(wctx + " input[" + r + "][" + b + "]", (float) expected[r][b], t.input[0][r][b], 0f);
                    }
                }
                WindowOutput out = new WindowOutput(TestFiles.floats(f.getJSONArray("posteriors").getJSONArray(k)),
                        SpeakerStatsGoldenTest.matrix(f.getJSONArray("window_stats").getJSONArray(k)),
                        (float) f.getJSONArray("speech_frames").getDouble(k));
                assertEquals(wctx + " speech", f.getJSONArray("speech").getBoolean(k), stream.after(t, out));
                windows++;
            }
            assertStatsClose(ctx + "stats_out", stats3(f.getJSONArray("stats_out")), stream.snapshot());
        }
        assertTrue("no file of " + TestFiles.requiredPath("serbnn.modelGolden") + " has stats_in", windows > 0);
    }

    @Test
    public void filePathPassesTheStatsAndPoolsTheGoldenPosteriors() throws Exception {
        JSONObject g = golden();
        File emodb = TestFiles.requiredPath("serbnn.emodb");
        ModelInfo info = new ModelInfo(labels(g), g.getInt("sample_rate"), g.getInt("window_samples"),
                g.getInt("hop_samples"));
        JSONObject ruleJson = g.getJSONObject("stats_rule");
        SpeakerStatsRule rule = new SpeakerStatsRule(ruleJson.getDouble("min_stats_frames"),
                ruleJson.getDouble("count_cap"), SpeakerStatsRule.STD_FLOOR, null, null);
        Gating gating = new Gating(ruleJson.getDouble("min_speech_frames"), Gating.ENERGY_FLOOR, Gating.LOG_FLATNESS_MAX);
        JSONArray files = g.getJSONArray("files");
        int checked = 0;
        for (int fi = 0; fi < files.length(); fi++) {
            JSONObject f = files.getJSONObject(fi);
            if (!f.has("stats_in")) {
                continue;
            }
            String ctx = f.getString("wav") + ": ";
            int n = f.getJSONArray("stats_in").getJSONArray(0).getJSONArray(0).length();
            Replay replay = new Replay(ctx, f);
            UtteranceClassifier uc = new UtteranceClassifier(replay, info.labels, info.sampleRate, info.windowSamples,
                    info.hopSamples, n, true, rule, gating, Pooling.checkRule(g.optString("pooling", Pooling.MAX)));
            InputStream in = new BufferedInputStream(new FileInputStream(new File(emodb, f.getString("wav"))));
            UtteranceClassifier.Result r;
            try {
                r = uc.classify(WavStream.open(in).at(info.sampleRate));
            } finally {
                in.close();
            }
            assertEquals(ctx + "windows run", f.getJSONArray("stats_in").length(), replay.calls);
            assertEquals(ctx + "label", f.getString("label"), r.label);
            assertArrayEquals(ctx + "pooled", TestFiles.floats(f.getJSONArray("pooled")), r.pooled, 1e-6f);
            assertStatsClose(ctx + "stats after the file", stats3(f.getJSONArray("stats_out")), r.statsAfter);
            checked++;
        }
        assertTrue("no file with stats_in", checked > 0);
    }

    private static List<String> labels(JSONObject g) throws JSONException {
        List<String> out = new ArrayList<String>();
        JSONArray a = g.getJSONArray("labels");
        for (int i = 0; i < a.length(); i++) {
            out.add(a.getString(i));
        }
        return out;
    }

    /** Window k: check its fingerprint and the statistics input, return the model's golden outputs. */
    private static final class Replay implements ModelRunner {
        private final String ctx;
        private final JSONObject f;
        int calls;

        Replay(String ctx, JSONObject f) {
            this.ctx = ctx;
            this.f = f;
        }

        @Override
        public WindowOutput run(float[] window, float[][][] speakerStats) {
            try {
                int k = calls++;
                String wctx = ctx + "window " + k;
                double sum = 0;
                for (float x : window) {
                    sum += x;
                }
                double expectedSum = f.getJSONArray("window_sums").getDouble(k);
                assertEquals(wctx + " sum", expectedSum, sum, 1e-4 * Math.max(1.0, Math.abs(expectedSum)));
                double[][] expected = stats3(f.getJSONArray("stats_in").getJSONArray(k));
                for (int r = 0; r < 3; r++) {
                    for (int b = 0; b < expected[r].length; b++) {
                        assertEquals(wctx + " speaker_stats input[" + r + "][" + b + "]", (float) expected[r][b],
                                speakerStats[0][r][b], 0f);
                    }
                }
                return new WindowOutput(TestFiles.floats(f.getJSONArray("posteriors").getJSONArray(k)),
                        SpeakerStatsGoldenTest.matrix(f.getJSONArray("window_stats").getJSONArray(k)),
                        (float) f.getJSONArray("speech_frames").getDouble(k));
            } catch (JSONException e) {
                throw new AssertionError(e);
            }
        }
    }
}
