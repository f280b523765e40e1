package org.serbnn.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.util.Arrays;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The app's speaker side ({@link SpeakerSession}): profile start-up, new speaker, writes and their errors. */
public class SpeakerSessionTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private final LiveModeTest.FakeClock clock = new LiveModeTest.FakeClock();

    private static WindowOutput speech(float frames) {
        float[][] ws = {{frames, frames}, {-5f * frames, -5f * frames}, {25f * frames, 25f * frames}};
        return new WindowOutput(new float[] {0.5f, 0.5f}, ws, frames);
    }

    @Test
    public void aModelWithoutStatisticsHasNoProfile() {
        File f = new File(tmp.getRoot(), "p.json");
        SpeakerSession s = SpeakerSession.open(new ModelInfo(Arrays.asList("a", "b"), 8, 4, 4), null, f, 1000, clock);
        assertFalse(s.hasProfile());
        assertFalse(s.stream().takesStats());
        assertNull(s.startStatus());
        assertNull(s.statusLine());
        assertNull(s.newSpeaker());
        assertNull(s.saveIfDue());
        assertNull(s.saveNow());
        assertFalse("nothing written", f.exists());
    }

    @Test
    public void theProfileContinuesAcrossLaunchesAndNewSpeakerResetsIt() throws Exception {
        File f = new File(tmp.getRoot(), "p.json");
        SpeakerSession s = SpeakerSession.open(LiveModeTest.INFO, null, f, 1000, clock);
        assertTrue(s.hasProfile());
        assertEquals("New speaker: 0 frames of speech (0.0 s), default statistics until 100 frames", s.startStatus());
        assertNull("nothing changed, nothing written", s.saveNow());
        assertFalse(f.exists());
        assertTrue(s.stream().accept(speech(300f)));
        assertNull(s.saveNow());
        assertEquals("Speaker: 300 frames of speech (3.0 s), own statistics in use", s.statusLine());

        SpeakerSession next = SpeakerSession.open(LiveModeTest.INFO, null, f, 1000, clock); // the next launch
        assertEquals("Speaker profile loaded: 300 frames of speech (3.0 s), own statistics in use", next.startStatus());
        assertArrayEquals(s.stream().snapshot().sumsq(), next.stream().snapshot().sumsq(), 0.0);

        assertEquals("New speaker: 0 frames of speech (0.0 s), default statistics until 100 frames", next.newSpeaker());
        assertEquals(0.0, SpeakerProfile.load(f, 2).count(), 0.0);
    }

    @Test
    public void anUnusableProfileIsReportedAndKeptUntilNewSpeaker() throws Exception {
        File f = new File(tmp.getRoot(), "p.json");
        Files.write(f.toPath(), "{\"count\": 1, \"sum\": [1, 2, 3], \"sumsq\": [1, 2, 3]}".getBytes("UTF-8"));
        SpeakerSession s = SpeakerSession.open(LiveModeTest.INFO, null, f, 1000, clock);
        assertEquals("profile " + f.getPath() + ": statistics have 3 bands, the model needs 2. The file is kept as it"
                + " is and not updated; starting from the default statistics (tap New speaker to replace it).",
                s.startStatus());
        s.stream().accept(speech(300f));
        assertNull(s.saveIfDue());
        assertNull(s.saveNow());
        assertTrue("left alone", new String(Files.readAllBytes(f.toPath()), "UTF-8").contains("[1, 2, 3]"));
        s.newSpeaker();
        assertEquals(0.0, SpeakerProfile.load(f, 2).count(), 0.0);
    }

    @Test
    public void writeErrorsBecomeOneLine() {
        File f = new File(new File(tmp.getRoot(), "gone"), "p.json");
        SpeakerSession s = SpeakerSession.open(LiveModeTest.INFO, null, f, 1000, clock);
        s.stream().accept(speech(300f));
        for (String line : new String[] {s.saveIfDue(), s.saveNow(), s.newSpeaker()}) {
            assertTrue(line, line.startsWith("Cannot write the speaker profile: ") && line.contains("p.json"));
        }
    }
}
