package org.serbnn.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.BufferedInputStream;
import java.io.File;
import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.json.JSONArray;
import org.json.JSONObject;
import org.junit.Test;

/**
 * Speaker statistics, gating and the streaming rule against the Python side: system property
 * serbnn.statsGolden names stats_golden.json written by tests/android_stats_golden.py (ser_bnn.online,
 * ser_bnn.gating, ser_bnn.model_io.find_roles, ser_bnn.predict.predict_file), with its profiles and WAVs
 * beside it; serbnn.profileOut a directory where this test writes a profile for Python to read back.
 *
 * <p>The statistics are compared bit for bit: the Java update does the same double operations in the
 * same order as numpy.
 */
public class SpeakerStatsGoldenTest {
    private static JSONObject golden() throws Exception {
        return new JSONObject(TestFiles.readUtf8(TestFiles.requiredPath("serbnn.statsGolden")));
    }

    private static File dir() {
        return TestFiles.requiredPath("serbnn.statsGolden").getParentFile();
    }

    static SpeakerStats stats(JSONObject d) throws Exception {
        return new SpeakerStats(d.getDouble("count"), TestFiles.doubles(d.getJSONArray("sum")),
                TestFiles.doubles(d.getJSONArray("sumsq")));
    }

    static void assertStatsEqual(String ctx, JSONObject expected, SpeakerStats actual) throws Exception {
        assertEquals(ctx + " count", expected.getDouble("count"), actual.count(), 0.0);
        assertArrayEquals(ctx + " sum", TestFiles.doubles(expected.getJSONArray("sum")), actual.sum(), 0.0);
        assertArrayEquals(ctx + " sumsq", TestFiles.doubles(expected.getJSONArray("sumsq")), actual.sumsq(), 0.0);
    }

    static float[][] matrix(JSONArray rows) throws org.json.JSONException {
        float[][] m = new float[rows.length()][];
        for (int i = 0; i < m.length; i++) {
            m[i] = TestFiles.floats(rows.getJSONArray(i));
        }
        return m;
    }

    static void assertMatrixEquals(String ctx, float[][] expected, float[][] actual) {
        assertEquals(ctx + " rows", expected.length, actual.length);
        for (int r = 0; r < expected.length; r++) {
            assertArrayEquals(ctx + " row " + r, expected[r], actual[r], 0f);
        }
    }

    private static SpeakerStatsRule rule(JSONObject g) throws Exception {
        return new SpeakerStatsRule(g.getDouble("min_stats_frames"), g.getDouble("count_cap"),
                g.optDouble("std_floor", SpeakerStatsRule.STD_FLOOR), null, null);
    }

    private static Gating gating(JSONObject g) throws Exception {
        return new Gating(g.getDouble("min_speech_frames"), Gating.ENERGY_FLOOR, Gating.LOG_FLATNESS_MAX);
    }

    @Test
    public void constantsAreThePythonOnes() throws Exception {
        JSONObject g = golden();
        assertEquals(g.getInt("min_speech_frames"), Gating.MIN_SPEECH_FRAMES);
        assertEquals(g.getDouble("count_cap"), SpeakerStatsRule.COUNT_CAP, 0.0);
        assertEquals(g.getInt("min_stats_frames"), SpeakerStatsRule.MIN_STATS_FRAMES);
        assertEquals(g.getDouble("std_floor"), SpeakerStatsRule.STD_FLOOR, 0.0);
    }

    /** Every window of every stream: input before, selected statistics, speech decision, statistics after. */
    @Test
    public void streamsMatchTracker() throws Exception {
        JSONObject g = golden();
        int n = g.getInt("n_mels");
        SpeakerStatsRule rule = rule(g);
        JSONObject streams = g.getJSONObject("streams");
        Iterator<String> names = streams.keys();
        int checked = 0;
        int capped = 0;
        while (names.hasNext()) {
            String name = names.next();
            JSONObject s = streams.getJSONObject(name);
            SpeakerStats start = s.isNull("start") ? null : stats(s.getJSONObject("start"));
            SpeakerStream stream = new SpeakerStream(n, true, rule, gating(g), start);
            JSONArray windows = s.getJSONArray("windows");
            for (int w = 0; w < windows.length(); w++) {
                String ctx = name + " window " + w;
                JSONObject row = windows.getJSONObject(w);
                SpeakerStream.Ticket t = stream.before();
                assertMatrixEquals(ctx + " input", matrix(row.getJSONArray("input_before")), t.input[0]);
                assertEquals(ctx + " source", row.getString("source_before"), rule.source(stream.snapshot()));
                float[][] ws = matrix(row.getJSONArray("window_stats"));
                float frames = (float) row.getDouble("speech_frames");
                boolean speech = stream.after(t, new WindowOutput(new float[] {1f}, ws, frames));
                assertEquals(ctx + " speech (" + frames + " frames)", row.getBoolean("speech"), speech);
                SpeakerStats after = stream.snapshot();
                assertStatsEqual(ctx + " after", row.getJSONObject("after"), after);
                if (row.has("mean_after")) {
                    assertArrayEquals(ctx + " mean", TestFiles.doubles(row.getJSONArray("mean_after")), after.mean(), 0.0);
                    assertArrayEquals(ctx + " std", TestFiles.doubles(row.getJSONArray("std_after")),
                            after.std(rule.stdFloor), 0.0);
                }
                if (after.count() == rule.countCap) {
                    capped++;
                }
                checked++;
            }
        }
        assertTrue("few windows checked: " + checked, checked > 150);
        assertTrue("the cap was never reached", capped > 20);
    }

    @Test
    public void pythonProfilesLoadExactly() throws Exception {
        JSONObject p = golden().getJSONObject("profiles");
        int n = p.getInt("n_mels");
        for (String key : new String[] {"python_profile", "lenient_profile", "converted_profile"}) {
            JSONObject e = p.getJSONObject(key);
            SpeakerStats s = SpeakerProfile.load(new File(dir(), e.getString("file")), n);
            assertStatsEqual(key, e.getJSONObject("stats"), s);
        }
    }

    @Test
    public void badProfilesAreRefusedAsPythonRefusesThem() throws Exception {
        JSONObject p = golden().getJSONObject("profiles");
        int n = p.getInt("n_mels");
        JSONArray bad = p.getJSONArray("bad");
        assertTrue(bad.length() >= 35);
        int exact = 0;
        for (int i = 0; i < bad.length(); i++) {
            JSONObject b = bad.getJSONObject(i);
            File f = new File(b.getString("path_in_error"));
            byte[] before = Files.readAllBytes(f.toPath());
            try {
                SpeakerProfile.load(f, n);
                fail(b.getString("file") + ": accepted");
            } catch (ProfileException e) {
                if (b.getBoolean("exact")) {
                    assertEquals(b.getString("file"), b.getString("error"), e.getMessage());
                    exact++;
                } else {
                    assertTrue(e.getMessage(), e.getMessage().startsWith("profile " + f.getPath()));
                }
            }
            assertArrayEquals("the file is left alone", before, Files.readAllBytes(f.toPath()));
        }
        assertEquals("all but the ragged list have Python's message", bad.length() - 1, exact);
    }

    /** Java's statistics after a stream, written as a profile; the pytest driver reads it with Python. */
    @Test
    public void javaProfileForPython() throws Exception {
        JSONObject g = golden();
        JSONObject jp = g.getJSONObject("profiles").getJSONObject("java_profile");
        JSONObject s = g.getJSONObject("streams").getJSONObject(jp.getString("stream"));
        SpeakerStream stream = new SpeakerStream(g.getInt("n_mels"), true, rule(g), gating(g), null);
        JSONArray windows = s.getJSONArray("windows");
        for (int w = 0; w < windows.length(); w++) {
            JSONObject row = windows.getJSONObject(w);
            stream.accept(new WindowOutput(new float[] {1f}, matrix(row.getJSONArray("window_stats")),
                    (float) row.getDouble("speech_frames")));
        }
        File out = new File(TestFiles.requiredPath("serbnn.profileOut"), jp.getString("file"));
        SpeakerProfile.save(out, stream.snapshot());
        SpeakerStats back = SpeakerProfile.load(out, g.getInt("n_mels"));
        assertStatsEqual("reloaded", windows.getJSONObject(windows.length() - 1).getJSONObject("after"), back);
    }

    @Test
    public void tensorRolesMatchFindRoles() throws Exception {
        JSONObject g = golden();
        JSONArray cases = g.getJSONArray("roles");
        int nClasses = g.getJSONObject("sessions").getJSONArray("labels").length();
        for (int i = 0; i < cases.length(); i++) {
            JSONObject c = cases.getJSONObject(i);
            int[][] ins = shapes(c.getJSONArray("inputs"));
            int[][] outs = shapes(c.getJSONArray("outputs"));
            try {
                TensorRoles r = TensorRoles.find(ins, outs, new int[] {1, 48000}, nClasses, g.getInt("n_mels"), "model");
                assertFalse(c.getString("name") + ": accepted, Python refused", c.has("error"));
                JSONObject e = c.getJSONObject("roles");
                assertEquals(c.getString("name"), e.getInt("signal"), r.signal);
                assertEquals(c.getString("name"), e.getInt("probabilities"), r.probabilities);
                assertEquals(c.getString("name"), e.getInt("speaker_stats"), r.speakerStats);
                assertEquals(c.getString("name"), e.getInt("window_stats"), r.windowStats);
                assertEquals(c.getString("name"), e.getInt("speech_frames"), r.speechFrames);
            } catch (IllegalArgumentException e) {
                assertEquals(c.getString("name"), c.optString("error", "(Python accepted it)"), e.getMessage());
            }
        }
    }

    private static int[][] shapes(JSONArray a) throws Exception {
        int[][] s = new int[a.length()][];
        for (int i = 0; i < s.length; i++) {
            s[i] = TestFiles.ints(a.getJSONArray(i));
        }
        return s;
    }

    /**
     * ser-bnn predict's streaming loop (per file a stream from the profile or zeros; the profile gets every
     * speech window) over the WAVs, with the network's outputs replayed: same statistics input on every call,
     * same decisions, notes, pooled scores, rows, statistics after each file and profile after the session.
     */
    @Test
    public void sessionsMatchPredict() throws Exception {
        JSONObject sessions = golden().getJSONObject("sessions");
        List<String> labels = new ArrayList<String>();
        JSONArray l = sessions.getJSONArray("labels");
        for (int i = 0; i < l.length(); i++) {
            labels.add(l.getString(i));
        }
        int n = sessions.getInt("n_mels");
        SpeakerStatsRule rule = new SpeakerStatsRule(sessions.getDouble("min_stats_frames"),
                sessions.getDouble("count_cap"), SpeakerStatsRule.STD_FLOOR, null, null);
        Gating gating = new Gating(sessions.getDouble("min_speech_frames"), Gating.ENERGY_FLOOR, Gating.LOG_FLATNESS_MAX);
        int noSpeech = 0;
        int skippedWindows = 0;
        for (String session : new String[] {"no_profile", "with_profile"}) {
            JSONObject s = sessions.getJSONObject(session);
            SpeakerStats start = s.isNull("start") ? null : stats(s.getJSONObject("start"));
            SpeakerStream profile = new SpeakerStream(n, true, rule, gating, start);
            JSONArray files = s.getJSONArray("files");
            for (int fi = 0; fi < files.length(); fi++) {
                JSONObject f = files.getJSONObject(fi);
                String ctx = session + " " + f.getString("wav") + ": ";
                Replay replay = new Replay(ctx, f.getJSONArray("calls"), n);
                UtteranceClassifier uc = new UtteranceClassifier(replay, labels, sessions.getInt("sample_rate"),
                        sessions.getInt("window_samples"), f.getInt("hop_samples"), n, true, rule, gating);
                SpeakerStream stream = uc.newStream(start);
                InputStream in = new BufferedInputStream(new FileInputStream(new File(dir(), f.getString("wav"))));
                UtteranceClassifier.Result r;
                try {
                    r = uc.classify(WavStream.open(in).at(sessions.getInt("sample_rate")), stream, profile);
                } catch (UnusableAudioException e) {
                    assertFalse(ctx + "refused: " + e.getMessage(), f.getBoolean("ok"));
                    assertEquals(ctx, f.getString("error"), e.getMessage());
                    continue;
                } finally {
                    in.close();
                }
                assertTrue(ctx + "Python refused it", f.getBoolean("ok"));
                assertEquals(ctx + "network calls", f.getJSONArray("calls").length(), replay.calls);
                JSONObject e = f.getJSONObject("result");
                assertEquals(ctx + "status", e.getString("status"), r.status);
                if (e.isNull("emotion")) {
                    noSpeech++;
                    assertTrue(ctx + "no speech", r.noSpeech());
                    assertNull(ctx + "label", r.label);
                    assertNull(ctx + "pooled", r.pooled);
                    assertTrue(ctx + "scores", e.isNull("scores"));
                } else {
                    assertEquals(ctx + "emotion", e.getString("emotion"), r.label);
                    assertArrayEquals(ctx + "pooled", TestFiles.floats(e.getJSONArray("pooled_max")), r.pooled, 1e-6f);
                    assertArrayEquals(ctx + "scores", TestFiles.floats(e.getJSONArray("scores")), r.scores, 1e-6f);
                }
                JSONArray notes = e.getJSONArray("notes");
                List<String> expectedNotes = new ArrayList<String>();
                for (int i = 0; i < notes.length(); i++) {
                    expectedNotes.add(notes.getString(i));
                }
                assertEquals(ctx + "notes", expectedNotes, r.notes);
                JSONArray rows = e.getJSONArray("windows");
                assertEquals(ctx + "windows run", rows.length(), r.windows.size());
                for (int w = 0; w < rows.length(); w++) {
                    JSONObject row = rows.getJSONObject(w);
                    UtteranceClassifier.Window jw = r.windows.get(w);
                    String wctx = ctx + "window " + w + " ";
                    assertEquals(wctx + "start", row.getLong("start"), jw.start);
                    assertEquals(wctx + "speech", row.getBoolean("speech"), jw.speech);
                    assertEquals(wctx + "speech_frames", row.getInt("speech_frames"), (int) jw.speechFrames);
                    assertEquals(wctx + "stats_count", row.getDouble("stats_count"), jw.statsCount, 0.0);
                    assertEquals(wctx + "stats_source", row.getString("stats_source"), jw.statsSource);
                    if (row.isNull("posteriors")) {
                        assertNull(wctx + "posteriors", jw.posteriors);
                        skippedWindows++;
                    } else {
                        assertArrayEquals(wctx + "posteriors", TestFiles.floats(row.getJSONArray("posteriors")),
                                jw.posteriors, 0f);
                    }
                }
                long[] starts = new long[e.getJSONArray("window_starts").length()];
                for (int i = 0; i < starts.length; i++) {
                    starts[i] = e.getJSONArray("window_starts").getLong(i);
                }
                assertArrayEquals(ctx + "window_starts", starts, r.windowStarts);
                assertStatsEqual(ctx + "statistics after", f.getJSONObject("stats_after"), r.statsAfter);
            }
            assertStatsEqual(session + ": profile after the session", s.getJSONObject("profile_after"),
                    profile.snapshot());
        }
        assertTrue("no file without speech in the golden sessions", noSpeech >= 2);
        assertTrue("no window without speech in the golden sessions", skippedWindows >= 4);
    }

    /** Replays the recorded network calls, after checking the window and the statistics input. */
    static final class Replay implements ModelRunner {
        private final String ctx;
        private final JSONArray recorded;
        private final int nMels;
        int calls;

        Replay(String ctx, JSONArray recorded, int nMels) {
            this.ctx = ctx;
            this.recorded = recorded;
            this.nMels = nMels;
        }

        @Override
        public WindowOutput run(float[] window, float[][][] speakerStats) {
            try {
                assertTrue(ctx + "more network calls than Python made", calls < recorded.length());
                JSONObject c = recorded.getJSONObject(calls);
                String wctx = ctx + "call " + calls + " ";
                float[] first = TestFiles.floats(c.getJSONArray("first_samples"));
                assertArrayEquals(wctx + "first samples", first, Arrays.copyOf(window, first.length), 0f);
                double sum = 0;
                for (float x : window) {
                    sum += x;
                }
                assertEquals(wctx + "window sum", c.getDouble("sum"), sum, 1e-9 * Math.max(1.0, Math.abs(sum)));
                assertEquals(wctx + "statistics input shape", nMels, speakerStats[0][0].length);
                assertMatrixEquals(wctx + "speaker_stats input", matrix(c.getJSONArray("stats_in")), speakerStats[0]);
                calls++;
                return new WindowOutput(TestFiles.floats(c.getJSONArray("probabilities")),
                        matrix(c.getJSONArray("window_stats")), (float) c.getDouble("speech_frames"));
            } catch (org.json.JSONException e) {
                throw new AssertionError(e);
            }
        }
    }
}
