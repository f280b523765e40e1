package org.serbnn.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import org.junit.Test;

/** No button accepts taps while a file is being classified (nor while the model loads). */
public class ControlStateTest {
    private static void assertButtons(ControlState c, boolean live, boolean pick, boolean sample) {
        assertEquals("live button in " + c.mode(), live, c.liveButtonEnabled());
        assertEquals("pick button in " + c.mode(), pick, c.pickButtonEnabled());
        assertEquals("sample button in " + c.mode(), sample, c.sampleButtonEnabled());
    }

    @Test
    public void buttonsFollowTheMode() {
        ControlState c = new ControlState();
        assertButtons(c, false, false, false);
        assertFalse(c.canStartLive());
        assertFalse(c.canClassifyFile());
        c.modelReady(true);
        assertButtons(c, true, true, true);

        c.fileStarted();
        assertButtons(c, false, false, false);
        assertFalse("a second tap must not queue a second file", c.canClassifyFile());
        assertFalse("nor start the microphone", c.canStartLive());
        c.fileFinished();
        assertButtons(c, true, true, true);

        c.liveStarted();
        assertButtons(c, true, true, true); // stop, or switch to a file
        assertFalse(c.canStartLive());
        assertTrue(c.canClassifyFile());
        c.liveStopped();
        c.fileStarted();
        c.liveStopped(); // onPause while classifying: stays busy
        assertButtons(c, false, false, false);
        c.fileFinished();
        assertEquals(ControlState.Mode.IDLE, c.mode());
    }

    @Test
    public void sampleButtonOnlyWithABundledSample() {
        ControlState c = new ControlState();
        c.modelReady(false);
        assertButtons(c, true, true, false);
    }

    @Test
    public void failedModelDisablesEverything() {
        ControlState c = new ControlState();
        c.modelFailed();
        assertButtons(c, false, false, false);
    }

    @Test
    public void newSpeakerOnlyWithAProfileAndNotDuringAFile() {
        ControlState c = new ControlState();
        assertFalse(c.newSpeakerButtonEnabled());
        c.modelReady(true);
        assertFalse("a model without speaker statistics", c.newSpeakerButtonEnabled());
        c.modelReady(true, true);
        assertTrue(c.newSpeakerButtonEnabled());
        c.liveStarted();
        assertTrue(c.newSpeakerButtonEnabled());
        c.liveStopped();
        c.fileStarted();
        assertFalse(c.newSpeakerButtonEnabled());
        c.fileFinished();
        assertTrue(c.newSpeakerButtonEnabled());
        c.modelFailed();
        assertFalse(c.newSpeakerButtonEnabled());
    }

    @Test(expected = IllegalStateException.class)
    public void fileCannotStartWhileAnotherIsClassified() {
        ControlState c = new ControlState();
        c.modelReady(true);
        c.fileStarted();
        c.fileStarted();
    }
}
