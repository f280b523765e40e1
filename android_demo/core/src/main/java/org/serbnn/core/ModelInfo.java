package org.serbnn.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.json.JSONArray;
import org.json.JSONException;
import org.json.JSONObject;
import org.json.JSONTokener;

/**
 * What the app needs to know about an exported model, read from the files {@code ser-bnn export}
 * writes beside MODEL.tflite: MODEL.labels.txt (one label per line, in output order) and/or the
 * MODEL.json sidecar. When both carry labels they must agree.
 *
 * <p>JSON keys read (first one present wins): labels from {@code labels}, {@code config.labels};
 * sample rate from {@code sample_rate}, {@code features.sample_rate}, {@code config.features.sample_rate};
 * window length from {@code window_samples}, {@code segment_samples}, or {@code segment_frames *
 * hop_length} under {@code features} / {@code config.features}; hop between file-mode windows from
 * {@code hop_samples}, {@code segment_hop_samples}, or {@code segment_hop_frames * hop_length} there.
 * Missing values default to 16 kHz, a 48 000-sample window and a hop of one window (the project's
 * front end and {@code ser-bnn predict}'s default). A JSON {@code null} counts as missing.
 *
 * <p>The statistics interface (sidecars since issue 10, see deploy/INTEGRATION.md): {@code inputs} and
 * {@code outputs} list every tensor with {@code name}, {@code index}, {@code role} ({@code waveform} /
 * {@code logmel}, {@code speaker_stats}; {@code probabilities}, {@code window_stats},
 * {@code speech_frames}) and {@code shape}; the band count is {@code features.n_mels} (or
 * {@code config.features.n_mels}, else the statistics tensors' shape, else 40); {@code speaker_stats}
 * gives {@code min_stats_frames}, {@code count_cap}, {@code std_floor} and {@code default.mean} /
 * {@code default.std} ({@link SpeakerStatsRule}); {@code gating} gives {@code min_speech_frames},
 * {@code energy_floor}, {@code log_flatness_max} ({@link Gating}). Missing constants take the values of
 * ser_bnn.online / ser_bnn.gating. Shapes must agree with the labels, the window and the band count.
 *
 * <p>The JSON is parsed with {@code org.json} (part of Android; on the JVM Debian's
 * libandroid-json-java, the same AOSP code). Malformed JSON, trailing characters and values of
 * the wrong type (a label that is not a string, a sample rate that is not an integer) throw
 * {@link IllegalArgumentException} naming the key.
 */
public final class ModelInfo {
    /** Default band count (the project's front end). */
    public static final int DEFAULT_N_MELS = 40;

    /** One entry of the sidecar's {@code inputs} / {@code outputs}. */
    public static final class TensorSpec {
        public final String name;
        public final int index;
        public final String role;
        private final int[] shape;

        public TensorSpec(String name, int index, String role, int[] shape) {
            this.name = name;
            this.index = index;
            this.role = role;
            this.shape = shape.clone();
        }

        public int[] shape() {
            return shape.clone();
        }
    }

    public final List<String> labels;
    public final int sampleRate;
    public final int windowSamples;
    public final int hopSamples;
    /** Mel bands of the statistics tensors. */
    public final int nMels;
    /** The sidecar's {@code inputs} / {@code outputs} (empty when it lists none). */
    public final List<TensorSpec> inputs;
    public final List<TensorSpec> outputs;
    /** The utterance decision rule ({@link Pooling#MAX} when the sidecar names none). */
    public final String pooling;
    private final SpeakerStatsRule statsRule; // null: the sidecar describes no speaker_stats input
    private final Gating gating; // null: the sidecar describes no gating outputs

    public ModelInfo(List<String> labels, int sampleRate, int windowSamples, int hopSamples) {
        this(labels, sampleRate, windowSamples, hopSamples, DEFAULT_N_MELS, null, null, null, null);
    }

    /**
     * @param statsRule null when the model has no {@code speaker_stats} input
     * @param gating null when the model has no {@code window_stats} / {@code speech_frames} outputs
     */
    public ModelInfo(List<String> labels, int sampleRate, int windowSamples, int hopSamples, int nMels,
            List<TensorSpec> inputs, List<TensorSpec> outputs, SpeakerStatsRule statsRule, Gating gating) {
        this(labels, sampleRate, windowSamples, hopSamples, nMels, inputs, outputs, statsRule, gating, Pooling.MAX);
    }

    /** @param pooling {@link Pooling#MAX} or {@link Pooling#MEAN_LOG} */
    public ModelInfo(List<String> labels, int sampleRate, int windowSamples, int hopSamples, int nMels,
            List<TensorSpec> inputs, List<TensorSpec> outputs, SpeakerStatsRule statsRule, Gating gating,
            String pooling) {
        if (labels.size() < 2) {
            throw new IllegalArgumentException("need at least 2 labels, got " + labels.size());
        }
        if (sampleRate <= 0 || windowSamples <= 0 || hopSamples <= 0) {
            throw new IllegalArgumentException("bad sample rate / window / hop: " + sampleRate + ", "
                    + windowSamples + ", " + hopSamples);
        }
        if (nMels <= 0) {
            throw new IllegalArgumentException("n_mels must be positive, got " + nMels);
        }
        this.labels = Collections.unmodifiableList(new ArrayList<String>(labels));
        this.sampleRate = sampleRate;
        this.windowSamples = windowSamples;
        this.hopSamples = hopSamples;
        this.nMels = nMels;
        this.inputs = Collections.unmodifiableList(new ArrayList<TensorSpec>(
                inputs == null ? Collections.<TensorSpec>emptyList() : inputs));
        this.outputs = Collections.unmodifiableList(new ArrayList<TensorSpec>(
                outputs == null ? Collections.<TensorSpec>emptyList() : outputs));
        this.statsRule = statsRule;
        this.gating = gating;
        this.pooling = Pooling.checkRule(pooling);
        if (statsRule != null && statsRule.defaultMean().length != 0 && statsRule.defaultMean().length != nMels) {
            throw new IllegalArgumentException("speaker_stats.default: " + statsRule.defaultMean().length
                    + " bands, the model has " + nMels);
        }
    }

    /** Whether the sidecar describes a {@code speaker_stats} input (section or tensor). */
    public boolean takesSpeakerStats() {
        return statsRule != null;
    }

    /** Whether the sidecar describes the {@code window_stats} / {@code speech_frames} outputs. */
    public boolean hasWindowStats() {
        return gating != null;
    }

    /** The statistics rule: the sidecar's, or ser_bnn.online's constants when it gives none. */
    public SpeakerStatsRule speakerStatsRule() {
        return statsRule != null ? statsRule : SpeakerStatsRule.defaults();
    }

    /** The gating rule: the sidecar's, or ser_bnn.gating's constants when it gives none. */
    public Gating gating() {
        return gating != null ? gating : Gating.defaults();
    }

    /** Index of the input with this role in the sidecar's list, or -1. */
    public int inputIndex(String role) {
        return indexOf(inputs, role);
    }

    /** Index of the output with this role in the sidecar's list, or -1. */
    public int outputIndex(String role) {
        return indexOf(outputs, role);
    }

    private static int indexOf(List<TensorSpec> list, String role) {
        for (TensorSpec t : list) {
            if (t.role.equals(role)) {
                return t.index;
            }
        }
        return -1;
    }

    public int numClasses() {
        return labels.size();
    }

    public String label(int index) {
        return labels.get(index);
    }

    /** Build from the text of MODEL.labels.txt and/or MODEL.json (either may be null, not both). */
    public static ModelInfo fromSidecars(String labelsTxt, String json) {
        List<String> fromTxt = labelsTxt == null ? null : parseLabels(labelsTxt);
        JSONObject root = json == null ? null : parseObject(json);
        List<String> fromJson = null;
        int rate = Windowing.SAMPLE_RATE;
        int window = Windowing.WINDOW_SAMPLES;
        int hop = -1;
        int nMels = DEFAULT_N_MELS;
        List<TensorSpec> inputs = null;
        List<TensorSpec> outputs = null;
        SpeakerStatsRule statsRule = null;
        Gating gating = null;
        String pooling = Pooling.MAX;
        if (root != null) {
            Object pool = root.opt("pooling");
            if (pool != null && pool != JSONObject.NULL) {
                if (!(pool instanceof String)) {
                    throw new IllegalArgumentException("pooling: expected a string");
                }
                pooling = Pooling.checkRule((String) pool);
            }
            Object l = first(root, "labels", "config.labels");
            if (l != null) {
                if (!(l instanceof JSONArray)) {
                    throw new IllegalArgumentException("labels: expected a JSON array");
                }
                JSONArray arr = (JSONArray) l;
                fromJson = new ArrayList<String>();
                for (int i = 0; i < arr.length(); i++) {
                    Object label = arr.opt(i);
                    if (!(label instanceof String)) {
                        throw new IllegalArgumentException("labels[" + i + "]: expected a string");
                    }
                    fromJson.add((String) label);
                }
                checkLabels(fromJson);
            }
            Object r = first(root, "sample_rate", "features.sample_rate", "config.features.sample_rate");
            if (r != null) {
                rate = asInt(r, "sample_rate");
            }
            Object w = first(root, "window_samples", "segment_samples");
            Object h = first(root, "hop_samples", "segment_hop_samples");
            for (String base : new String[] {"features", "config.features"}) {
                Object frameHop = path(root, base + ".hop_length");
                if (frameHop == null) {
                    continue;
                }
                int fh = asInt(frameHop, "hop_length");
                Object frames = path(root, base + ".segment_frames");
                Object hopFrames = path(root, base + ".segment_hop_frames");
                if (w == null && frames != null) {
                    window = asInt(frames, "segment_frames") * fh;
                }
                if (h == null && hopFrames != null) {
                    hop = asInt(hopFrames, "segment_hop_frames") * fh;
                }
                break;
            }
            if (w != null) {
                window = asInt(w, "window_samples");
            }
            if (h != null) {
                hop = asInt(h, "hop_samples");
            }
            inputs = tensors(root, "inputs");
            outputs = tensors(root, "outputs");
            Object m = first(root, "features.n_mels", "config.features.n_mels");
            if (m != null) {
                nMels = asInt(m, "n_mels");
            } else {
                for (List<TensorSpec> list : java.util.Arrays.asList(inputs, outputs)) {
                    for (TensorSpec t : list) {
                        if (("speaker_stats".equals(t.role) || "window_stats".equals(t.role)) && t.shape.length == 3) {
                            nMels = t.shape[2];
                        }
                    }
                }
            }
            Object stats = path(root, "speaker_stats");
            if (stats != null || indexOf(inputs, "speaker_stats") >= 0) {
                statsRule = statsRule(stats, root);
            }
            Object gate = path(root, "gating");
            if (gate != null || indexOf(outputs, "window_stats") >= 0 || indexOf(outputs, "speech_frames") >= 0) {
                gating = gating(gate);
            }
        }
        if (fromTxt == null && fromJson == null) {
            throw new IllegalArgumentException("no labels: need MODEL.labels.txt or \"labels\" in MODEL.json");
        }
        if (fromTxt != null && fromJson != null && !fromTxt.equals(fromJson)) {
            throw new IllegalArgumentException("labels file " + fromTxt + " and JSON sidecar " + fromJson + " disagree");
        }
        List<String> labels = fromTxt != null ? fromTxt : fromJson;
        ModelInfo info = new ModelInfo(labels, rate, window, hop > 0 ? hop : window, nMels, inputs, outputs,
                statsRule, gating, pooling);
        info.checkTensors();
        return info;
    }

    /** The listed tensors agree with the labels, window and band count; roles appear once. */
    private void checkTensors() {
        checkList("inputs", inputs, true);
        checkList("outputs", outputs, false);
    }

    private void checkList(String key, List<TensorSpec> list, boolean isInput) {
        Set<Integer> indices = new HashSet<Integer>();
        Set<String> roles = new HashSet<String>();
        for (int i = 0; i < list.size(); i++) {
            TensorSpec t = list.get(i);
            String where = key + "[" + i + "]";
            if (t.index < 0 || t.index >= list.size() || !indices.add(t.index)) {
                throw new IllegalArgumentException(where + ".index: " + t.index + " is out of range or repeated");
            }
            if (!roles.add(t.role)) {
                throw new IllegalArgumentException(where + ".role: '" + t.role + "' appears twice");
            }
            int[] expected = null;
            if ("speaker_stats".equals(t.role) || "window_stats".equals(t.role)) {
                expected = new int[] {1, 3, nMels};
            } else if ("speech_frames".equals(t.role)) {
                expected = new int[] {1, 1};
            } else if ("probabilities".equals(t.role)) {
                expected = new int[] {1, labels.size()};
            } else if ("waveform".equals(t.role)) {
                expected = new int[] {1, windowSamples};
            } else if (!"logmel".equals(t.role) && isInput) {
                throw new IllegalArgumentException(where + ".role: unknown input role '" + t.role + "'");
            }
            if (expected != null && !java.util.Arrays.equals(expected, t.shape)) {
                throw new IllegalArgumentException(where + ".shape: " + t.role + " must be "
                        + java.util.Arrays.toString(expected) + ", got " + java.util.Arrays.toString(t.shape));
            }
        }
    }

    private static List<TensorSpec> tensors(JSONObject root, String key) {
        Object v = path(root, key);
        List<TensorSpec> out = new ArrayList<TensorSpec>();
        if (v == null) {
            return out;
        }
        if (!(v instanceof JSONArray)) {
            throw new IllegalArgumentException(key + ": expected a JSON array");
        }
        JSONArray arr = (JSONArray) v;
        for (int i = 0; i < arr.length(); i++) {
            String where = key + "[" + i + "]";
            Object e = arr.opt(i);
            if (!(e instanceof JSONObject)) {
                throw new IllegalArgumentException(where + ": expected a JSON object");
            }
            JSONObject o = (JSONObject) e;
            Object index = path(o, "index");
            Object role = path(o, "role");
            Object shape = path(o, "shape");
            Object name = path(o, "name");
            if (index == null || role == null || shape == null) {
                throw new IllegalArgumentException(where + ": needs index, role and shape");
            }
            if (!(role instanceof String)) {
                throw new IllegalArgumentException(where + ".role: expected a string");
            }
            if (!(shape instanceof JSONArray)) {
                throw new IllegalArgumentException(where + ".shape: expected a JSON array");
            }
            JSONArray sa = (JSONArray) shape;
            int[] dims = new int[sa.length()];
            for (int d = 0; d < dims.length; d++) {
                dims[d] = asInt(sa.opt(d), where + ".shape[" + d + "]");
            }
            out.add(new TensorSpec(name == null ? "" : String.valueOf(name), asInt(index, where + ".index"),
                    (String) role, dims));
        }
        return out;
    }

    private static SpeakerStatsRule statsRule(Object section, JSONObject root) {
        if (section != null && !(section instanceof JSONObject)) {
            throw new IllegalArgumentException("speaker_stats: expected a JSON object");
        }
        JSONObject s = section == null ? new JSONObject() : (JSONObject) section;
        double minFrames = asDouble(path(s, "min_stats_frames"), "speaker_stats.min_stats_frames",
                SpeakerStatsRule.MIN_STATS_FRAMES);
        double cap = asDouble(path(s, "count_cap"), "speaker_stats.count_cap", SpeakerStatsRule.COUNT_CAP);
        Object floor = path(s, "std_floor");
        if (floor == null) {
            floor = first(root, "features.std_floor", "config.features.std_floor");
        }
        double stdFloor = asDouble(floor, "speaker_stats.std_floor", SpeakerStatsRule.STD_FLOOR);
        double[] mean = doubles(path(s, "default.mean"), "speaker_stats.default.mean");
        double[] std = doubles(path(s, "default.std"), "speaker_stats.default.std");
        return new SpeakerStatsRule(minFrames, cap, stdFloor, mean, std);
    }

    private static Gating gating(Object section) {
        if (section != null && !(section instanceof JSONObject)) {
            throw new IllegalArgumentException("gating: expected a JSON object");
        }
        JSONObject g = section == null ? new JSONObject() : (JSONObject) section;
        return new Gating(asDouble(path(g, "min_speech_frames"), "gating.min_speech_frames", Gating.MIN_SPEECH_FRAMES),
                asDouble(path(g, "energy_floor"), "gating.energy_floor", Gating.ENERGY_FLOOR),
                asDouble(path(g, "log_flatness_max"), "gating.log_flatness_max", Gating.LOG_FLATNESS_MAX));
    }

    private static double asDouble(Object v, String what, double fallback) {
        if (v == null) {
            return fallback;
        }
        if (!(v instanceof Number)) {
            throw new IllegalArgumentException(what + ": expected a number");
        }
        return ((Number) v).doubleValue();
    }

    private static double[] doubles(Object v, String what) {
        if (v == null) {
            return null;
        }
        if (!(v instanceof JSONArray)) {
            throw new IllegalArgumentException(what + ": expected a JSON array");
        }
        JSONArray a = (JSONArray) v;
        double[] out = new double[a.length()];
        for (int i = 0; i < out.length; i++) {
            Object x = a.opt(i);
            if (!(x instanceof Number)) {
                throw new IllegalArgumentException(what + "[" + i + "]: expected a number");
            }
            out[i] = ((Number) x).doubleValue();
        }
        return out;
    }

    /** Parse a labels file: one label per line, in output order; trailing blank lines ignored. */
    public static List<String> parseLabels(String text) {
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1);
        }
        String[] lines = text.split("\n", -1);
        int end = lines.length;
        while (end > 0 && lines[end - 1].trim().isEmpty()) {
            end--;
        }
        List<String> out = new ArrayList<String>();
        for (int i = 0; i < end; i++) {
            String label = lines[i].trim();
            if (label.isEmpty()) {
                throw new IllegalArgumentException("labels file: empty line " + (i + 1));
            }
            out.add(label);
        }
        checkLabels(out);
        return out;
    }

    private static void checkLabels(List<String> labels) {
        Set<String> seen = new HashSet<String>();
        for (String l : labels) {
            if (!seen.add(l)) {
                throw new IllegalArgumentException("duplicate label '" + l + "'");
            }
        }
    }

    /** The sidecar's top-level object; the whole text must be that one JSON value. */
    private static JSONObject parseObject(String json) {
        try {
            JSONTokener tokens = new JSONTokener(json);
            Object root = tokens.nextValue();
            if (tokens.nextClean() != 0) {
                throw new IllegalArgumentException("invalid JSON sidecar: trailing characters");
            }
            if (!(root instanceof JSONObject)) {
                throw new IllegalArgumentException("model sidecar: expected a JSON object");
            }
            return (JSONObject) root;
        } catch (JSONException e) {
            throw new IllegalArgumentException("invalid JSON sidecar: " + e.getMessage(), e);
        }
    }

    private static int asInt(Object v, String what) {
        if (!(v instanceof Number)) {
            throw new IllegalArgumentException(what + ": expected a number");
        }
        double d = ((Number) v).doubleValue();
        if (d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(what + ": expected an integer, got " + v);
        }
        return (int) d;
    }

    /** Follow a dotted path of object keys ("features.sample_rate"); null if a step is missing or null. */
    private static Object path(JSONObject root, String dotted) {
        Object cur = root;
        for (String key : dotted.split("\\.")) {
            if (!(cur instanceof JSONObject)) {
                return null;
            }
            cur = ((JSONObject) cur).opt(key);
        }
        return cur == JSONObject.NULL ? null : cur;
    }

    private static Object first(JSONObject root, String... paths) {
        for (String p : paths) {
            Object v = path(root, p);
            if (v != null) {
                return v;
            }
        }
        return null;
    }
}
