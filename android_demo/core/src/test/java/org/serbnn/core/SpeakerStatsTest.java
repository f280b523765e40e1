package org.serbnn.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.File;
import java.nio.charset.Charset;
import java.nio.file.Files;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The statistics, the profile format, the stream's generations and the profile store (no Python needed). */
public class SpeakerStatsTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private static float[][] window(float count, float value, int n) {
        float[][] w = new float[3][n];
        for (int b = 0; b < n; b++) {
            w[0][b] = count;
            w[1][b] = count * value;
            w[2][b] = count * value * value;
        }
        return w;
    }

    @Test
    public void addThenCapKeepsMeanAndStd() {
        SpeakerStats s = new SpeakerStats(2);
        s.add(window(20000f, -5f, 2), SpeakerStatsRule.COUNT_CAP);
        assertEquals(20000.0, s.count(), 0.0);
        double[] mean = s.mean();
        s.add(window(20000f, -5f, 2), SpeakerStatsRule.COUNT_CAP);
        assertEquals(30000.0, s.count(), 0.0); // 40000 capped: scaled by 0.75
        assertArrayEquals(new double[] {-150000.0, -150000.0}, s.sum(), 1e-6);
        assertArrayEquals(mean, s.mean(), 1e-12);
        assertArrayEquals(new double[] {1e-3, 1e-3}, s.std(1e-3), 1e-9); // constant value: std at the floor
        float[][][] in = s.toInput();
        assertEquals(30000f, in[0][0][1], 0f);
        assertEquals(-150000f, in[0][1][0], 0f);
        assertEquals(750000f, in[0][2][1], 0f);
    }

    @Test
    public void countComesFromBand0AndBadWindowsChangeNothing() {
        SpeakerStats s = new SpeakerStats(3);
        float[][] w = window(10f, 1f, 3);
        w[0][1] = 99f;
        s.add(w, 100);
        assertEquals(10.0, s.count(), 0.0);
        float[][] nan = window(10f, 1f, 3);
        nan[1][2] = Float.NaN;
        float[][] negative = window(-1f, 1f, 3);
        for (float[][] bad : new float[][][] {nan, negative, new float[2][3], new float[3][2]}) {
            try {
                s.add(bad, 100);
                fail("accepted a bad window");
            } catch (IllegalArgumentException expected) {
                assertEquals(10.0, s.count(), 0.0);
                assertArrayEquals(new double[] {10, 10, 10}, s.sum(), 0.0);
            }
        }
        try {
            new SpeakerStats(1, new double[] {1, 2}, new double[] {1, -2});
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("negative count or sum of squares"));
        }
        try {
            new SpeakerStats(0).mean();
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().contains("at least one"));
        }
        try {
            new SpeakerStats(2).mean();
            fail();
        } catch (IllegalStateException e) {
            assertTrue(e.getMessage().contains("no signal frames"));
        }
    }

    @Test
    public void gatingThreshold() {
        Gating g = Gating.defaults();
        assertFalse(g.isSpeech(29f));
        assertFalse(g.isSpeech(29.99f));
        assertTrue(g.isSpeech(30f));
        assertFalse(g.isSpeech(Float.NaN));
        assertTrue(new Gating(10, -12, -0.6).isSpeech(10));
        assertEquals("no speech", Gating.NO_SPEECH);
    }

    @Test
    public void profileRoundTripIsExact() throws Exception {
        double[] sum = {-1234.5678901234567, Math.PI * -1e5, 1e-300, 0.0};
        double[] sumsq = {1e20 / 3, Math.E * 1e6, 4.9e-324, 0.0};
        SpeakerStats s = new SpeakerStats(123456.789, sum, sumsq);
        File f = new File(tmp.getRoot(), "p.json");
        SpeakerProfile.save(f, s);
        String text = new String(Files.readAllBytes(f.toPath()), Charset.forName("UTF-8"));
        assertTrue(text, text.startsWith("{\"format\": \"ser-bnn-speaker-stats\",\n \"version\": 1,\n \"n_mels\": 4,"));
        SpeakerStats back = SpeakerProfile.load(f, 4);
        assertEquals(s.count(), back.count(), 0.0);
        assertArrayEquals(sum, back.sum(), 0.0);
        assertArrayEquals(sumsq, back.sumsq(), 0.0);
        assertFalse("no temporary file left", new File(tmp.getRoot(), ".p.json.tmp").exists());
        try {
            SpeakerProfile.load(f, 5);
            fail();
        } catch (ProfileException e) {
            assertEquals("profile " + f.getPath() + " has 4 Mel bands, the model needs 5", e.getMessage());
        }
        try {
            SpeakerProfile.load(new File(tmp.getRoot(), "missing.json"), 4);
            fail();
        } catch (ProfileException e) {
            assertTrue(e.getMessage(), e.getMessage().startsWith("cannot read profile "));
        }
    }

    /** Text that is not JSON for Python either; org.json refuses it too. */
    @Test
    public void notJsonAsPython() {
        String[] notJson = {"", "  ", "{", "{\"count\": 1", "{\"a\": 1,}", "{\"a\": 1} x", "{\"a\": 1}}", "\uFEFF{}",
            "speaker", "{\"a\" 1}", "[1, 2"};
        for (String t : notJson) {
            assertRefused(t, "profile P is not JSON");
        }
        assertRefused("[1, 2]", "profile P is not a JSON object");
        assertRefused("\"speaker\"", "profile P is not a JSON object");
        assertRefused("3.5", "profile P is not a JSON object");
        assertRefused("null", "profile P is not a JSON object");
    }

    /** Python's checks in Python's order, on values org.json parses (the golden test has Python's side). */
    @Test
    public void valueChecksInPythonsOrder() throws Exception {
        String ok = "\"sum\": [1, 2], \"sumsq\": [1, 2]";
        assertRefused("{\"version\": 2, \"n_mels\": 3, \"count\": NaN}", "profile P has version 2, expected 1");
        assertRefused("{\"version\": 2.5}", "profile P has version 2.5, expected 1");
        assertRefused("{\"n_mels\": 3, \"count\": NaN}", "profile P has 3 Mel bands, the model needs 2");
        assertRefused("{\"n_mels\": 3.0}", "profile P has 3.0 Mel bands, the model needs 2");
        assertRefused("{\"sum\": [1, 2]}", "profile P: statistics need count, sum and sumsq: 'count'");
        assertRefused("{\"count\": {}}", "profile P: statistics need count, sum and sumsq: float() argument must be"
                + " a string or a real number, not 'dict'");
        assertRefused("{\"count\": \"it's\", " + ok + "}",
                "profile P: statistics need count, sum and sumsq: could not convert string to float: \"it's\"");
        assertRefused("{\"count\": 1, \"sum\": [[1, 2], [3, 4]], \"sumsq\": 5}",
                "profile P: statistics sum has shape [2, 2], the model needs 2 bands");
        assertRefused("{\"count\": 1, \"sum\": [1, 2], \"sumsq\": [[[1]], [[2]]]}",
                "profile P: statistics sumsq has shape [2, 1, 1], the model needs 2 bands");
        assertRefused("{\"count\": 1, \"sum\": [[1]], \"sumsq\": [[]]}",
                "profile P: statistics sum has shape [1, 1], the model needs 2 bands");
        assertRefused("{\"count\": 1, \"sum\": [1, 2], \"sumsq\": [[], []]}",
                "profile P: statistics sumsq has shape [2, 0], the model needs 2 bands");
        assertRefused("{\"count\": 1, \"sum\": [[1], 2], \"sumsq\": [1, 2]}", "profile P: statistics need count, "
                + "sum and sumsq: setting an array element with a sequence: the lists have different lengths or depths");
        assertRefused("{\"count\": 1, \"sum\": [1, [2]], \"sumsq\": [1, 2]}", "profile P: statistics need count, "
                + "sum and sumsq: setting an array element with a sequence: the lists have different lengths or depths");
        assertRefused("{\"count\": 1, \"sum\": [1, 2, 3], \"sumsq\": [NaN]}",
                "profile P: statistics have 3 bands, the model needs 2");
        assertRefused("{\"count\": -Infinity, \"sum\": [1, 2], \"sumsq\": [-1, 2]}",
                "profile P: statistics contain NaN or infinity");
        assertRefused("{\"count\": 1, \"sum\": [1, null], \"sumsq\": [1, 2]}",
                "profile P: statistics contain NaN or infinity");
        assertRefused("{\"count\": \" -inf \", " + ok + "}", "profile P: statistics contain NaN or infinity");
        assertRefused("{\"count\": 1, \"sum\": [1, 2], \"sumsq\": [1, -1e-300]}",
                "profile P: statistics have a negative count or sum of squares");
        assertRefused("{\"count\": -0.5, " + ok + "}", "profile P: statistics have a negative count or sum of squares");
        // accepted as Python accepts it: repeated keys (the last wins), other members, numeric strings, booleans
        String text = " {\"count\": 2, \"sum\": [1, -2.5E0], \"sumsq\": [\"0.5\", true], \"n_mels\": 2.0,"
                + " \"version\": true, \"x\": [null, {}, \"\\u00e9\\n\"], \"count\": \"3\", \"format\": 7} \n";
        SpeakerStats s = SpeakerProfile.fromJson(text, 2, "P");
        assertEquals(3.0, s.count(), 0.0);
        assertArrayEquals(new double[] {1, -2.5}, s.sum(), 0.0);
        assertArrayEquals(new double[] {0.5, 1}, s.sumsq(), 0.0);
        assertEquals(-0.0, SpeakerProfile.fromJson("{\"count\": 0, \"sum\": [-0.0, 0], \"sumsq\": [0, 0]}", 2, "P")
                .sum()[0], 0.0);
    }

    /**
     * Where org.json is more lenient than Python's json (documented in SpeakerProfile): no writer produces
     * these, and the values still pass every check.
     */
    @Test
    public void orgJsonLeniencyIsLimitedToTheGrammar() throws Exception {
        String[] lenient = {"{'count': 3, sum: [1, 2], \"sumsq\": [1, 2]} // comment",
            "# comment\n{\"count\" = 3; \"sum\" => [1, 2], \"sumsq\": [1, 2]}", "{\"count\": 0x3, \"sum\": [1, 2], \"sumsq\": [1, 2]}"};
        for (String t : lenient) {
            SpeakerStats s = SpeakerProfile.fromJson(t, 2, "P");
            assertEquals(t, 3.0, s.count(), 0.0);
            assertArrayEquals(t, new double[] {1, 2}, s.sum(), 0.0);
        }
        assertRefused("{\"count\": 1, \"sum\": [1, 2,], \"sumsq\": [1, 2]}",
                "profile P: statistics have 3 bands, the model needs 2"); // [1, 2, null] to org.json
        assertRefused("{\"count\": 12abc, \"sum\": [1, 2], \"sumsq\": [1, 2]}",
                "profile P: statistics need count, sum and sumsq: could not convert string to float: '12abc'");
    }

    private static void assertRefused(String text, String message) {
        try {
            SpeakerProfile.fromJson(text, 2, "P");
            fail("accepted " + text);
        } catch (ProfileException e) {
            assertEquals(text, message, e.getMessage());
        }
    }

    @Test
    public void streamGenerationsAndGating() {
        SpeakerStream s = new SpeakerStream(2, true, SpeakerStatsRule.defaults(), Gating.defaults(), null);
        SpeakerStream.Ticket t1 = s.before();
        assertEquals(0f, t1.input[0][0][0], 0f);
        assertTrue(s.after(t1, new WindowOutput(new float[] {1f}, window(300f, -5f, 2), 300f)));
        assertEquals(300.0, s.count(), 0.0);
        assertFalse(s.after(s.before(), new WindowOutput(new float[] {1f}, window(300f, -5f, 2), 24f)));
        assertEquals("non-speech windows do not update", 300.0, s.count(), 0.0);
        SpeakerStream.Ticket stale = s.before();
        s.reset(); // new speaker while a window is being classified
        assertEquals(0.0, s.count(), 0.0);
        assertTrue(s.after(stale, new WindowOutput(new float[] {1f}, window(300f, -5f, 2), 300f)));
        assertEquals("a window of the previous speaker does not update the new one", 0.0, s.count(), 0.0);
        assertEquals(1L, s.updates());
        // a model without gating: every window is speech, nothing to add
        SpeakerStream none = SpeakerStream.none();
        assertNull(none.before().input);
        assertTrue(none.after(none.before(), WindowOutput.probabilitiesOnly(new float[] {1f})));
        assertNull(none.snapshot());
        // a gated model without the statistics input: windows decide speech, statistics still kept
        SpeakerStream global = new SpeakerStream(2, false, null, null, null);
        assertNull(global.before().input);
        assertFalse(global.after(global.before(), new WindowOutput(new float[] {1f}, window(300f, -5f, 2), 3f)));
    }

    @Test
    public void profileStoreKeepsAnUnusableFileUntilNewSpeaker() throws Exception {
        File f = new File(tmp.getRoot(), "speaker_profile.json");
        Files.write(f.toPath(), "{\"count\": -1, \"sum\": [0, 0], \"sumsq\": [0, 0]}".getBytes("UTF-8"));
        byte[] bad = Files.readAllBytes(f.toPath());
        SpeakerStream s = new SpeakerStream(2, true, null, null, null);
        ProfileStore store = new ProfileStore(f, s, 2, 10000);
        String msg = store.load();
        assertTrue(msg, msg.startsWith("profile " + f.getPath() + ": statistics have a negative count"));
        assertTrue(store.keepingUnusableFile());
        s.accept(new WindowOutput(new float[] {1f}, window(300f, -5f, 2), 300f));
        assertFalse(store.saveIfDue(1000000));
        assertFalse(store.save());
        assertArrayEquals("left alone", bad, Files.readAllBytes(f.toPath()));
        store.newSpeaker(5);
        assertEquals(0.0, SpeakerProfile.load(f, 2).count(), 0.0);
        assertEquals(0.0, s.count(), 0.0);
        assertFalse(store.keepingUnusableFile());
    }

    @Test
    public void profileStorePersistsAcrossLaunches() throws Exception {
        File f = new File(tmp.getRoot(), "speaker_profile.json");
        SpeakerStream s = new SpeakerStream(2, true, null, null, null);
        ProfileStore store = new ProfileStore(f, s, 2, 10000);
        assertTrue(store.load().startsWith("New speaker: 0 frames of speech (0.0 s), default statistics until 100"));
        assertFalse("nothing changed", store.saveIfDue(0));
        s.accept(new WindowOutput(new float[] {1f}, window(300f, -5f, 2), 300f));
        assertTrue(store.saveIfDue(0));
        s.accept(new WindowOutput(new float[] {1f}, window(100f, -4f, 2), 100f));
        assertFalse("too soon", store.saveIfDue(9999));
        assertTrue(store.saveIfDue(10000));
        s.accept(new WindowOutput(new float[] {1f}, window(50f, -4f, 2), 50f));
        assertTrue("leaving the app saves at once", store.save());
        assertFalse(store.save());
        // the next launch
        SpeakerStream s2 = new SpeakerStream(2, true, null, null, null);
        String msg = new ProfileStore(f, s2, 2, 10000).load();
        assertTrue(msg, msg.startsWith("Speaker profile loaded: 450 frames of speech (4.5 s), own statistics in use"));
        assertArrayEquals(s.snapshot().sum(), s2.snapshot().sum(), 0.0);
        assertEquals(450.0, s2.count(), 0.0);
    }
}
