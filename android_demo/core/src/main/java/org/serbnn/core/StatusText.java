package org.serbnn.core;

import java.io.IOException;
import java.util.Locale;

/** The app's status and result lines: model state, live windows, file results (UI-free, Locale.US numbers). */
public final class StatusText {
    /** File results list at most this many windows. */
    public static final int MAX_WINDOW_LINES = 40;

    private StatusText() {
    }

    /** "Model: 7 classes, 3.0 s windows at 16000 Hz, speech gating (>= 30 speech frames)." */
    public static String modelReady(ModelInfo mi, boolean gated, Gating gating) {
        return String.format(Locale.US, "Model: %d classes, %.1f s windows at %d Hz%s.", mi.numClasses(),
                mi.windowSamples / (double) mi.sampleRate, mi.sampleRate,
                gated ? String.format(Locale.US, ", speech gating (>= %.0f speech frames)", gating.minSpeechFrames)
                        : "");
    }

    /**
     * Why the model could not be loaded: no model in the assets ({@link IOException}), no LCE Lite runtime
     * ({@link LinkageError}: the Gradle-free APK), or a model the app cannot use (anything else).
     */
    public static String modelLoadFailed(Throwable e) {
        if (e instanceof IOException) {
            return "No model in the app's assets (" + e.getMessage() + "). Copy one in with "
                    + "tools/copy_model.sh and rebuild: see android_demo/README.md.";
        }
        if (e instanceof LinkageError) {
            return "LCE Lite runtime missing from this APK (" + e + "). Build with Gradle and the "
                    + "org.larq:lce-lite AAR: see android_demo/README.md.";
        }
        return "Cannot load the model: " + e.getMessage();
    }

    /** "Listening: a window every 1.00 s." */
    public static String listening(double hopSeconds) {
        return String.format(Locale.US, "Listening: a window every %.2f s.", hopSeconds);
    }

    /** "live: speech, 3 speech window(s), 0 dropped, 41 ms/window, t=4.0 s" (or "no speech (12 speech frames)"). */
    public static String liveWindow(LiveClassifier.Update u, int sampleRate) {
        String what = u.speech ? "speech" : Gating.NO_SPEECH + (Float.isNaN(u.speechFrames) ? ""
                : String.format(Locale.US, " (%.0f speech frames)", u.speechFrames));
        return String.format(Locale.US, "live: %s, %d speech window(s), %d dropped, %d ms/window, t=%.1f s", what,
                u.windows, u.dropped, u.inferenceMs, u.samples / (double) sampleRate);
    }

    /**
     * A classified file: its format and timing, one line per window (at most {@link #MAX_WINDOW_LINES}),
     * predict's notes, and how the scores were made.
     *
     * @param fileRate the file's own sample rate ("(resampled)" when it is not the model's)
     * @param ms wall time of the classification
     */
    public static String fileResult(String name, int fileRate, int channels, UtteranceClassifier.Result r,
            ModelInfo mi, long ms) {
        int n = r.windows.size();
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.US, "%s: %.2f s, %d Hz%s, %d ch, %d window(s) run, %d classified (speech),"
                + " %d ms/window\n", name, r.durationSeconds(), fileRate, fileRate == mi.sampleRate ? "" : " (resampled)",
                channels, n, r.posteriors.length, ms / Math.max(1, n)));
        for (int i = 0; i < Math.min(n, MAX_WINDOW_LINES); i++) {
            sb.append(windowLine(i, r.windows.get(i), mi)).append('\n');
        }
        if (n > MAX_WINDOW_LINES) {
            sb.append(String.format(Locale.US, "  … %d more window(s)\n", n - MAX_WINDOW_LINES));
        }
        for (String note : r.notes) {
            sb.append("note: ").append(note).append('\n');
        }
        if (r.noSpeech()) {
            sb.append("no window has speech: no emotion (as ser-bnn predict)");
        } else {
            sb.append("scores: pooled (").append(mi.pooling)
                    .append(") over the speech windows, renormalised (as ser-bnn predict)");
        }
        return sb.toString();
    }

    /** "  window 2 @ 3.00 s: anger 0.71 [speaker statistics, 412 frames]" or "... no speech (3 speech frames)". */
    static String windowLine(int i, UtteranceClassifier.Window w, ModelInfo mi) {
        String what;
        if (w.posteriors == null) {
            what = String.format(Locale.US, "%s (%.0f speech frames)", Gating.NO_SPEECH, w.speechFrames);
        } else {
            int b = Pooling.argmax(w.posteriors);
            what = String.format(Locale.US, "%s %.2f", mi.label(b), w.posteriors[b]);
        }
        String stats = Double.isNaN(w.statsCount) ? ""
                : String.format(Locale.US, " [%s statistics, %.0f frames]", w.statsSource, w.statsCount);
        return String.format(Locale.US, "  window %d @ %.2f s: %s%s", i, w.start / (double) mi.sampleRate, what, stats);
    }
}
