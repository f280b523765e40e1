package org.serbnn.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import org.junit.Test;

/**
 * {@link ModelInfo}'s statistics interface (inputs / outputs with index, role, shape; speaker_stats; gating)
 * on hand-written sidecars: defaults and errors. {@link ExportedStatsSidecarTest} reads an exporter's.
 */
public class SidecarStatsTest {
    @Test
    public void defaultsWithoutTheSections() {
        ModelInfo plain = ModelInfo.fromSidecars("a\nb\n", null);
        assertFalse(plain.takesSpeakerStats());
        assertFalse(plain.hasWindowStats());
        assertEquals(40, plain.nMels);
        assertEquals(SpeakerStatsRule.COUNT_CAP, plain.speakerStatsRule().countCap, 0.0);
        assertEquals(Gating.MIN_SPEECH_FRAMES, plain.gating().minSpeechFrames, 0.0);
        // tensors listed without the sections: the constants of ser_bnn.online / ser_bnn.gating
        ModelInfo listed = ModelInfo.fromSidecars(null, "{\"labels\": [\"a\", \"b\"], \"inputs\": ["
                + "{\"index\": 1, \"role\": \"speaker_stats\", \"shape\": [1, 3, 8]},"
                + "{\"index\": 0, \"role\": \"waveform\", \"shape\": [1, 48000]}],"
                + " \"outputs\": [{\"index\": 0, \"role\": \"probabilities\", \"shape\": [1, 2]},"
                + "{\"index\": 1, \"role\": \"speech_frames\", \"shape\": [1, 1]},"
                + "{\"index\": 2, \"role\": \"window_stats\", \"shape\": [1, 3, 8]}]}");
        assertEquals("bands from the shapes", 8, listed.nMels);
        assertTrue(listed.takesSpeakerStats());
        assertTrue(listed.hasWindowStats());
        assertEquals(SpeakerStatsRule.MIN_STATS_FRAMES, listed.speakerStatsRule().minStatsFrames, 0.0);
        ModelInfo custom = ModelInfo.fromSidecars(null, "{\"labels\": [\"a\", \"b\"], \"features\": {\"n_mels\": 4},"
                + " \"speaker_stats\": {\"count_cap\": 600, \"min_stats_frames\": 50},"
                + " \"gating\": {\"min_speech_frames\": 10}}");
        assertEquals(600.0, custom.speakerStatsRule().countCap, 0.0);
        assertEquals(50.0, custom.speakerStatsRule().minStatsFrames, 0.0);
        assertEquals(10.0, custom.gating().minSpeechFrames, 0.0);
        SpeakerStream stream = SpeakerStream.forModel(custom, null, null);
        stream.accept(new WindowOutput(new float[] {1f, 0f}, new float[][] {{500, 500, 500, 500}, {1, 1, 1, 1},
            {1, 1, 1, 1}}, 10f));
        stream.accept(new WindowOutput(new float[] {1f, 0f}, new float[][] {{500, 500, 500, 500}, {1, 1, 1, 1},
            {1, 1, 1, 1}}, 10f));
        assertEquals("the sidecar's cap", 600.0, stream.count(), 0.0);
    }

    @Test
    public void badTensorListsNameTheKey() {
        String l = "{\"labels\": [\"a\", \"b\"], ";
        expectBad(l + "\"inputs\": {}}", "inputs: expected a JSON array");
        expectBad(l + "\"inputs\": [1]}", "inputs[0]: expected a JSON object");
        expectBad(l + "\"inputs\": [{\"index\": 0, \"role\": \"waveform\"}]}", "inputs[0]: needs index, role and shape");
        expectBad(l + "\"inputs\": [{\"index\": 1, \"role\": \"waveform\", \"shape\": [1, 48000]}]}",
                "inputs[0].index: 1 is out of range or repeated");
        expectBad(l + "\"inputs\": [{\"index\": 0, \"role\": \"waveform\", \"shape\": [1, 16000]}]}",
                "inputs[0].shape: waveform must be [1, 48000], got [1, 16000]");
        expectBad(l + "\"inputs\": [{\"index\": 0, \"role\": \"mystery\", \"shape\": [1]}]}",
                "inputs[0].role: unknown input role 'mystery'");
        expectBad(l + "\"outputs\": [{\"index\": 0, \"role\": \"probabilities\", \"shape\": [1, 3]}]}",
                "outputs[0].shape: probabilities must be [1, 2], got [1, 3]");
        expectBad(l + "\"features\": {\"n_mels\": 40}, \"outputs\": [{\"index\": 0, \"role\": \"window_stats\","
                + " \"shape\": [1, 3, 64]}]}", "outputs[0].shape: window_stats must be [1, 3, 40], got [1, 3, 64]");
        expectBad(l + "\"outputs\": [{\"index\": 0, \"role\": \"speech_frames\", \"shape\": [1, 1]},"
                + "{\"index\": 1, \"role\": \"speech_frames\", \"shape\": [1, 1]}]}", "outputs[1].role: 'speech_frames' appears twice");
        expectBad(l + "\"speaker_stats\": {\"count_cap\": \"big\"}}", "speaker_stats.count_cap: expected a number");
        expectBad(l + "\"speaker_stats\": {\"count_cap\": 0}}", "speaker_stats.count_cap must be a finite number > 0");
        expectBad(l + "\"speaker_stats\": {\"default\": {\"mean\": [1, 2], \"std\": [1]}}}",
                "speaker_stats.default: mean has 2 bands, std has 1");
        expectBad(l + "\"speaker_stats\": {\"default\": {\"mean\": [1, 2], \"std\": [1, 2]}}}",
                "speaker_stats.default: 2 bands, the model has 40");
        expectBad(l + "\"gating\": {\"min_speech_frames\": -1}}", "gating.min_speech_frames must be a finite number >= 0");
        expectBad(l + "\"gating\": 25}", "gating: expected a JSON object");
    }

    private static void expectBad(String json, String fragment) {
        try {
            ModelInfo.fromSidecars(null, json);
            fail("accepted " + json);
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains(fragment));
        }
    }
}
