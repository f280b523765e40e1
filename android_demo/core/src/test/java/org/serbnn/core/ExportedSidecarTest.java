package org.serbnn.core;

import static org.junit.Assert.assertEquals;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import org.json.JSONArray;
import org.json.JSONObject;
import org.junit.Test;

/**
 * {@link ModelInfo} on the files {@code ser-bnn export} writes: system property serbnn.sidecar names
 * a MODEL.json (MODEL.labels.txt beside it). The pytest driver writes them with the exporter's own
 * code (ser_bnn.export.artifact); with Gradle pass any export's sidecar with -PserbnnSidecar.
 */
public class ExportedSidecarTest {
    @Test
    public void readsWhatExportWrites() throws Exception {
        File sidecar = TestFiles.requiredPath("serbnn.sidecar");
        String name = sidecar.getName().replaceAll("\\.json$", "");
        String json = TestFiles.readUtf8(sidecar);
        String labelsTxt = TestFiles.readUtf8(new File(sidecar.getParentFile(), name + ".labels.txt"));
        JSONObject root = new JSONObject(json);
        JSONArray labels = root.getJSONArray("labels");
        List<String> expected = new ArrayList<String>();
        for (int i = 0; i < labels.length(); i++) {
            expected.add(labels.getString(i));
        }

        ModelInfo both = ModelInfo.fromSidecars(labelsTxt, json);
        ModelInfo jsonOnly = ModelInfo.fromSidecars(null, json);
        ModelInfo txtOnly = ModelInfo.fromSidecars(labelsTxt, null);
        for (ModelInfo m : new ModelInfo[] {both, jsonOnly, txtOnly}) {
            assertEquals(expected, m.labels);
        }
        for (ModelInfo m : new ModelInfo[] {both, jsonOnly}) {
            assertEquals(root.getInt("sample_rate"), m.sampleRate);
            assertEquals(root.getInt("window_samples"), m.windowSamples);
            assertEquals(root.getInt("hop_samples"), m.hopSamples);
            assertEquals(root.getJSONObject("features").getInt("sample_rate"), m.sampleRate);
            assertEquals(root.getJSONObject("output").getJSONArray("shape").getInt(1), m.numClasses());
        }
        assertEquals(Windowing.SAMPLE_RATE, both.sampleRate);
        assertEquals(Windowing.WINDOW_SAMPLES, both.windowSamples);
    }

    @Test
    public void configOnlySidecarGivesTheSameInfo() throws Exception {
        // An older or hand-written sidecar with only the run's config: labels, rate, window and hop
        // come from config.labels and config.features (frames x hop_length).
        File sidecar = TestFiles.requiredPath("serbnn.sidecar");
        JSONObject root = new JSONObject(TestFiles.readUtf8(sidecar));
        JSONObject configOnly = new JSONObject();
        configOnly.put("config", root.getJSONObject("config"));
        ModelInfo full = ModelInfo.fromSidecars(null, root.toString());
        ModelInfo fromConfig = ModelInfo.fromSidecars(null, configOnly.toString());
        assertEquals(full.labels, fromConfig.labels);
        assertEquals(full.sampleRate, fromConfig.sampleRate);
        assertEquals(full.windowSamples, fromConfig.windowSamples);
        assertEquals(full.hopSamples, fromConfig.hopSamples);
    }
}
