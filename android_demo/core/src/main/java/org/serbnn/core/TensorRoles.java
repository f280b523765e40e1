package org.serbnn.core;

import java.util.ArrayList;
import java.util.List;

/**
 * The model's tensors by role, found by shape as {@code ser_bnn.model_io.find_roles} does (TFLite keeps
 * its own order: LCE 0.16 writes the outputs as speech_frames, window_stats, probabilities):
 * <pre>
 *   inputs   signal         [1, window]
 *            speaker_stats  [1, 3, n_mels]   (norm "speaker" models only)
 *   outputs  probabilities  [1, n_classes]
 *            window_stats   [1, 3, n_mels]   (models exported since the statistics interface)
 *            speech_frames  [1, 1]
 * </pre>
 * {@link #checkSidecar} then requires the indices the sidecar lists ({@code inputs} / {@code outputs},
 * each with {@code index} and {@code role}) to be the same. An index is -1 when the model lacks the tensor.
 */
public final class TensorRoles {
    public final int signal;
    public final int probabilities;
    public final int speakerStats;
    public final int windowStats;
    public final int speechFrames;

    public TensorRoles(int signal, int probabilities, int speakerStats, int windowStats, int speechFrames) {
        this.signal = signal;
        this.probabilities = probabilities;
        this.speakerStats = speakerStats;
        this.windowStats = windowStats;
        this.speechFrames = speechFrames;
    }

    /** Whether the model reports window statistics and speech frames. */
    public boolean gated() {
        return windowStats >= 0 && speechFrames >= 0;
    }

    public boolean takesStats() {
        return speakerStats >= 0;
    }

    /** Match tensors to roles by shape; IllegalArgumentException (Python's one-line messages) if they do not fit. */
    public static TensorRoles find(int[][] inputShapes, int[][] outputShapes, int[] signalShape, int nClasses,
            int nMels, String name) {
        int[] stats = {1, 3, nMels};
        int signal = index(inputShapes, signalShape, "input", true, name);
        int probs = index(outputShapes, new int[] {1, nClasses}, "output for " + nClasses + " labels", true, name);
        int speakerStats = index(inputShapes, stats, "speaker_stats", false, name);
        int windowStats = index(outputShapes, stats, "window_stats", false, name);
        int speech = nClasses != 1 ? index(outputShapes, new int[] {1, 1}, "speech_frames", false, name) : -1;
        int knownIn = (signal >= 0 ? 1 : 0) + (speakerStats >= 0 ? 1 : 0);
        int knownOut = (probs >= 0 ? 1 : 0) + (windowStats >= 0 ? 1 : 0) + (speech >= 0 ? 1 : 0);
        if (knownIn != inputShapes.length || knownOut != outputShapes.length) {
            throw new IllegalArgumentException(name + ": unexpected tensors: inputs " + shapes(inputShapes)
                    + ", outputs " + shapes(outputShapes));
        }
        if ((windowStats < 0) != (speech < 0)) {
            throw new IllegalArgumentException(name + ": has only one of the window_stats / speech_frames outputs");
        }
        return new TensorRoles(signal, probs, speakerStats, windowStats, speech);
    }

    private static int index(int[][] shapes, int[] shape, String what, boolean required, String name) {
        List<Integer> hits = new ArrayList<Integer>();
        for (int i = 0; i < shapes.length; i++) {
            if (java.util.Arrays.equals(shapes[i], shape)) {
                hits.add(i);
            }
        }
        if (hits.size() > 1) {
            throw new IllegalArgumentException(name + ": several " + what + " tensors of shape " + tuple(shape));
        }
        if (hits.isEmpty() && required) {
            throw new IllegalArgumentException(name + ": no " + what + " tensor of shape " + tuple(shape) + " (has "
                    + join(shapes) + "): not a ser-bnn model or wrong sidecar");
        }
        return hits.isEmpty() ? -1 : hits.get(0);
    }

    /**
     * The sidecar's view must be the model's: every input / output it lists with a role has that role here
     * at the same index, and a model with the statistics input or outputs is not described as one without.
     * Sidecars that list no tensors (older exports, labels only) are accepted as they are.
     */
    public void checkSidecar(ModelInfo info) {
        for (ModelInfo.TensorSpec t : info.inputs) {
            check("input", t, "speaker_stats".equals(t.role) ? speakerStats
                    : ("waveform".equals(t.role) || "logmel".equals(t.role)) ? signal : -2);
        }
        for (ModelInfo.TensorSpec t : info.outputs) {
            int found = "probabilities".equals(t.role) ? probabilities : "window_stats".equals(t.role) ? windowStats
                    : "speech_frames".equals(t.role) ? speechFrames : -2;
            check("output", t, found);
        }
        if (!info.inputs.isEmpty() && takesStats() && info.inputIndex("speaker_stats") < 0) {
            throw new IllegalArgumentException("the model has a speaker_stats input (index " + speakerStats
                    + ") that the sidecar does not list: wrong sidecar");
        }
        if (!info.outputs.isEmpty() && gated() && info.outputIndex("window_stats") < 0) {
            throw new IllegalArgumentException("the model has window_stats / speech_frames outputs that the sidecar"
                    + " does not list: wrong sidecar");
        }
    }

    private static void check(String kind, ModelInfo.TensorSpec t, int found) {
        if (found == -2) {
            return; // a role this app does not use
        }
        if (found != t.index) {
            throw new IllegalArgumentException("the sidecar lists " + kind + " " + t.index + " as " + t.role
                    + (found < 0 ? ", the model has no such tensor" : ", the model has it at index " + found)
                    + ": wrong sidecar");
        }
    }

    static String tuple(int[] shape) {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(shape[i]);
        }
        return sb.append(shape.length == 1 ? ",)" : ")").toString();
    }

    private static String join(int[][] shapes) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < shapes.length; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(tuple(shapes[i]));
        }
        return sb.toString();
    }

    private static String shapes(int[][] shapes) {
        return "[" + join(shapes) + "]";
    }
}
