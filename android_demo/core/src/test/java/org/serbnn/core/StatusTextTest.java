package org.serbnn.core;

import static org.junit.Assert.assertEquals;

import java.io.FileNotFoundException;
import java.util.Arrays;
import org.junit.Test;

/** The app's status lines ({@link StatusText}); file results are checked in {@link FileClassificationTest}. */
public class StatusTextTest {
    @Test
    public void modelLines() {
        ModelInfo mi = new ModelInfo(Arrays.asList("anger", "boredom", "neutral"), 16000, 48000, 48000);
        assertEquals("Model: 3 classes, 3.0 s windows at 16000 Hz.", StatusText.modelReady(mi, false, mi.gating()));
        assertEquals("Model: 3 classes, 3.0 s windows at 16000 Hz, speech gating (>= 30 speech frames).",
                StatusText.modelReady(mi, true, new Gating(30, -12, -0.6)));
        assertEquals("No model in the app's assets (model.tflite). Copy one in with tools/copy_model.sh and rebuild:"
                + " see android_demo/README.md.", StatusText.modelLoadFailed(new FileNotFoundException("model.tflite")));
        assertEquals("LCE Lite runtime missing from this APK (java.lang.UnsatisfiedLinkError: no tensorflowlite_jni)."
                + " Build with Gradle and the org.larq:lce-lite AAR: see android_demo/README.md.",
                StatusText.modelLoadFailed(new UnsatisfiedLinkError("no tensorflowlite_jni")));
        assertEquals("Cannot load the model: labels differ", StatusText.modelLoadFailed(
                new IllegalArgumentException("labels differ")));
        assertEquals("Listening: a window every 0.75 s.", StatusText.listening(0.75));
    }

    @Test
    public void liveWindowLines() {
        LiveClassifier.Update speech = new LiveClassifier.Update(null, true, 80f, 500, new float[] {1f, 0f}, 0, 3, 2,
                41, 64000);
        assertEquals("live: speech, 3 speech window(s), 2 dropped, 41 ms/window, t=4.0 s",
                StatusText.liveWindow(speech, 16000));
        LiveClassifier.Update silent = new LiveClassifier.Update(null, false, 12f, 500, null, -1, 0, 0, 7, 8000);
        assertEquals("live: no speech (12 speech frames), 0 speech window(s), 0 dropped, 7 ms/window, t=0.5 s",
                StatusText.liveWindow(silent, 16000));
        LiveClassifier.Update ungated = new LiveClassifier.Update(null, false, Float.NaN, 0, null, -1, 0, 0, 7, 8000);
        assertEquals("live: no speech, 0 speech window(s), 0 dropped, 7 ms/window, t=0.5 s",
                StatusText.liveWindow(ungated, 16000));
    }
}
