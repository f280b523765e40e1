package org.serbnn.core;

import java.util.concurrent.Executor;

/**
 * Live mode's sessions, between the app's views and {@link LiveClassifier}. Each start is a session: a
 * {@link LiveWindower} at the chosen hop fed by a new {@link Recorder}, which waits for the previous one to
 * release the microphone. Stopping never blocks and makes every late sample and result of the session
 * stale. A window's result is formatted on the inference thread (after a speech window the speaker
 * profile is written when due) and shown through {@link Display} on the UI thread only if its session is
 * still current. A microphone or inference error stops the session once, with a message.
 *
 * <p>{@link #start}, {@link #stop}, {@link #setDecision} and {@link #isLive} run on the UI thread; the
 * {@code ui} executor must run its tasks there (the app posts to its main looper).
 */
public final class LiveMode implements LiveClassifier.Listener {
    /** The live hop slider: step k is (k + 1) / 4 s. */
    public static final int DEFAULT_HOP_STEP = 3;
    /** Exponential smoothing of the "smoothed" decision. */
    public static final float SMOOTHING_ALPHA = 0.3f;

    /** What the live decision shows. */
    public enum Decision {
        /** Exponential smoothing, alpha {@link #SMOOTHING_ALPHA}. */
        SMOOTHED,
        /** Per-class maximum since the start (the offline max rule). */
        MAX,
        /** Each window as it is. */
        LATEST;

        public PosteriorSmoother newSmoother() {
            switch (this) {
                case MAX:
                    return PosteriorSmoother.max();
                case LATEST:
                    return PosteriorSmoother.exponential(1f);
                default:
                    return PosteriorSmoother.exponential(SMOOTHING_ALPHA);
            }
        }
    }

    /** A running microphone; {@link #stop()} returns at once. */
    public interface Recorder {
        void start();

        void stop();
    }

    /** Makes recorders (the app's AudioRecord thread). */
    public interface Microphone {
        /** A recorder at {@code sampleRate} feeding {@code sink}; it first waits for {@code previous} (may be null). */
        Recorder open(int sampleRate, AudioSink sink, Recorder previous);
    }

    /** Where a recorder delivers, on its own thread. */
    public interface AudioSink {
        /** {@code samples} may be reused after the call returns. */
        void onSamples(float[] samples, int count);

        void onRecorderError(String message);
    }

    /** The app's views; called on the UI thread, for the current session only. */
    public interface Display {
        /** A window's decision ({@code update.speech} false: show "no speech") and its details line. */
        void showWindow(LiveClassifier.Update update, String details);

        /** The speaker line (statistics held, or a profile write error). */
        void showSpeaker(String line);

        /** The session stopped itself (microphone or inference error); the message says why. */
        void stoppedWithError(String message);
    }

    /** Hop of slider step {@code step}: (step + 1) * 0.25 s. */
    public static double hopSeconds(int step) {
        return (step + 1) * 0.25;
    }

    private final LiveClassifier live;
    private final SpeakerSession speaker;
    private final Microphone microphone;
    private final Display display;
    private final Executor ui;
    private final int windowSamples;
    private final int sampleRate;
    private Recorder recorder;
    /** The last stopped recorder: the next one waits for it to release the microphone. */
    private Recorder previous;

    /**
     * @param inference the single inference thread (windows, profile writes)
     * @param ui runs tasks on the UI thread
     */
    public LiveMode(ModelRunner runner, ModelInfo info, SpeakerSession speaker, Executor inference, Executor ui,
            Microphone microphone, Display display) {
        this.live = new LiveClassifier(runner, speaker.stream(), info.numClasses(), inference, this);
        this.speaker = speaker;
        this.microphone = microphone;
        this.display = display;
        this.ui = ui;
        this.windowSamples = info.windowSamples;
        this.sampleRate = info.sampleRate;
    }

    public boolean isLive() {
        return recorder != null;
    }

    /** Start a session with a window every {@code hopSeconds}; returns the status line. */
    public String start(double hopSeconds, Decision decision) {
        if (isLive()) {
            throw new IllegalStateException("live mode is already on");
        }
        final LiveWindower session = new LiveWindower(windowSamples, Windowing.hopSamples(hopSeconds, sampleRate), 1);
        live.begin(session, decision.newSmoother());
        recorder = microphone.open(sampleRate, new AudioSink() {
            @Override
            public void onSamples(float[] samples, int count) {
                live.push(session, samples, count); // ignored once the session is over
            }

            @Override
            public void onRecorderError(String message) {
                stopFromUi(session, "Microphone: " + message);
            }
        }, previous);
        recorder.start();
        return StatusText.listening(hopSeconds);
    }

    /** Stop the session, if any; never blocks. */
    public void stop() {
        if (recorder != null) {
            recorder.stop();
            previous = recorder;
            recorder = null;
        }
        live.end();
    }

    /** A new decision (also after "New speaker": the shown decision was the previous speaker's). */
    public void setDecision(Decision decision) {
        live.setSmoother(decision.newSmoother());
    }

    /** Inference thread. */
    @Override
    public void onLiveUpdate(final LiveClassifier.Update u) {
        final String details = StatusText.liveWindow(u, sampleRate);
        String saveError = u.speech ? speaker.saveIfDue() : null;
        final String speakerLine = saveError != null ? saveError : speaker.statusLine();
        ui.execute(new Runnable() {
            @Override
            public void run() {
                if (!live.isCurrent(u)) {
                    return; // from a stopped or restarted session
                }
                display.showWindow(u, details);
                if (speakerLine != null) {
                    display.showSpeaker(speakerLine);
                }
            }
        });
    }

    /** Inference thread. */
    @Override
    public void onLiveError(LiveWindower session, String message) {
        stopFromUi(session, message);
    }

    /** Any thread: on the UI thread, stop {@code session} if it is still current and say why. */
    private void stopFromUi(final LiveWindower session, final String message) {
        ui.execute(new Runnable() {
            @Override
            public void run() {
                if (live.isCurrent(session)) {
                    stop();
                    display.stoppedWithError(message);
                }
            }
        });
    }
}
