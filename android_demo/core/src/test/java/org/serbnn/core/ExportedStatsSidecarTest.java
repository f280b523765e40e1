package org.serbnn.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.File;
import org.json.JSONArray;
import org.json.JSONObject;
import org.junit.Test;

/**
 * {@link ModelInfo}, {@link TensorRoles} and {@link SpeakerStream} on the MODEL.json of a norm "speaker"
 * model written by the exporter's own code: system property serbnn.statsSidecar (tests/android_stats_golden.py
 * exported_stats_sidecar: ser_bnn.export.artifact.describe / sidecar / write_artifact, tensors in LCE's order).
 */
public class ExportedStatsSidecarTest {
    @Test
    public void readsWhatExportWritesForASpeakerModel() throws Exception {
        File sidecar = TestFiles.requiredPath("serbnn.statsSidecar");
        String json = TestFiles.readUtf8(sidecar);
        JSONObject root = new JSONObject(json);
        ModelInfo info = ModelInfo.fromSidecars(null, json);
        assertEquals(40, info.nMels);
        assertTrue(info.takesSpeakerStats());
        assertTrue(info.hasWindowStats());
        assertEquals(2, info.inputs.size());
        assertEquals(3, info.outputs.size());
        JSONArray outs = root.getJSONArray("outputs");
        for (int i = 0; i < outs.length(); i++) {
            JSONObject o = outs.getJSONObject(i);
            assertEquals(o.getInt("index"), info.outputIndex(o.getString("role")));
        }
        assertEquals(1, info.inputIndex("speaker_stats"));
        assertEquals(0, info.inputIndex("waveform"));
        JSONObject st = root.getJSONObject("speaker_stats");
        SpeakerStatsRule rule = info.speakerStatsRule();
        assertEquals(st.getDouble("min_stats_frames"), rule.minStatsFrames, 0.0);
        assertEquals(st.getDouble("count_cap"), rule.countCap, 0.0);
        assertEquals(st.getDouble("std_floor"), rule.stdFloor, 0.0);
        assertArrayEquals(TestFiles.doubles(st.getJSONObject("default").getJSONArray("mean")), rule.defaultMean(), 0.0);
        assertArrayEquals(TestFiles.doubles(st.getJSONObject("default").getJSONArray("std")), rule.defaultStd(), 0.0);
        assertEquals(SpeakerStatsRule.MIN_STATS_FRAMES, rule.minStatsFrames, 0.0);
        assertEquals(SpeakerStatsRule.COUNT_CAP, rule.countCap, 0.0);
        JSONObject gate = root.getJSONObject("gating");
        assertEquals(gate.getDouble("min_speech_frames"), info.gating().minSpeechFrames, 0.0);
        assertEquals(gate.getDouble("energy_floor"), info.gating().energyFloor, 0.0);
        assertEquals(gate.getDouble("log_flatness_max"), info.gating().logFlatnessMax, 0.0);
        assertEquals(Gating.MIN_SPEECH_FRAMES, info.gating().minSpeechFrames, 0.0);

        // the interpreter's tensors in the order the sidecar lists (LCE's): found by shape, agreeing with it
        int[][] ins = shapes(root.getJSONArray("inputs"));
        int[][] os = shapes(outs);
        TensorRoles roles = TensorRoles.find(ins, os, new int[] {1, info.windowSamples}, info.numClasses(), info.nMels,
                "model");
        roles.checkSidecar(info);
        assertEquals(info.outputIndex("probabilities"), roles.probabilities);
        SpeakerStream stream = SpeakerStream.forModel(info, roles, null);
        assertTrue(stream.takesStats());
        assertEquals(40, stream.before().input[0][0].length);

        // a sidecar whose indices disagree with the model is refused
        TensorRoles swapped = TensorRoles.find(ins, new int[][] {os[2], os[1], os[0]}, new int[] {1, 48000},
                info.numClasses(), 40, "model");
        try {
            swapped.checkSidecar(info);
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("wrong sidecar"));
        }
        // a sidecar without the statistics input for a model that has it
        ModelInfo old = ModelInfo.fromSidecars(null, "{\"labels\": [\"a\", \"b\", \"c\", \"d\", \"e\"],"
                + " \"inputs\": [{\"index\": 0, \"role\": \"waveform\", \"shape\": [1, 48000]}]}");
        try {
            roles.checkSidecar(old);
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("speaker_stats input (index 1)"));
        }
    }

    private static int[][] shapes(JSONArray list) throws Exception {
        int[][] s = new int[list.length()][];
        for (int i = 0; i < s.length; i++) {
            JSONObject t = list.getJSONObject(i);
            assertEquals("listed in index order", i, t.getInt("index"));
            s[i] = TestFiles.ints(t.getJSONArray("shape"));
        }
        return s;
    }
}
