package org.serbnn.core;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * File mode, the same decisions as {@code ser-bnn predict} ({@code ser_bnn/predict.py}): cut a recording
 * into windows ({@link WindowCutter}, the rule of {@link Windowing}) as it is read, run each through the
 * model ({@link ModelRunner}), pool the posteriors of the speech windows with the sidecar's rule
 * ({@link Pooling#pool}: max, the paper's, unless it names another) and name the winning class.
 * <ul>
 *   <li>Windows whose samples are all exactly 0 (digital silence) are not run and left out of the
 *       pooling.</li>
 *   <li>Speaker statistics and gating, predict's streaming rule ({@link SpeakerStream}): each window is run
 *       with the statistics accumulated before it (by default a stream from zero statistics per recording,
 *       as {@code ser-bnn predict FILE}); a window is speech when the model has no gating output or
 *       {@code speech_frames >= min_speech_frames}; only speech windows are pooled, and only they add
 *       their {@code window_stats}. A recording without a speech window gives {@link Result#status}
 *       {@value Gating#NO_SPEECH} and no label, never an emotion.</li>
 *   <li>A recording shorter than {@link #MIN_SECONDS} is refused ("too short"), before any window is
 *       classified; a recording whose samples are all zero is refused ("no signal").</li>
 *   <li>{@link Result#scores} is the pooled vector renormalised to sum to 1 (what predict prints);
 *       {@link Result#pooled} the raw pooled one. Recordings under {@link #SHORT_NOTE_SECONDS}, dropped
 *       silent windows and windows without speech give the same notes as predict.</li>
 * </ul>
 * Memory is one window plus one row per window, whatever the recording's length.
 */
public final class UtteranceClassifier {
    /** Shorter recordings are refused (predict's MIN_SECONDS). */
    public static final double MIN_SECONDS = 0.1;
    /** Shorter recordings get a note (predict's SHORT_NOTE_SECONDS). */
    public static final double SHORT_NOTE_SECONDS = 1.0;
    /** {@link Result#status} of a recording with a speech window. */
    public static final String OK = "ok";

    /** One window that was run (predict's {@code windows} rows). */
    public static final class Window {
        public final long start;
        public final boolean speech;
        /** The model's speech frames, NaN for a model without gating. */
        public final float speechFrames;
        /** Frame count of the statistics the window was run with; NaN for a model without that input. */
        public final double statsCount;
        /** "default" or "speaker" (which statistics the graph used); null for a model without them. */
        public final String statsSource;
        /** The window's probabilities; null when it is not speech (not classified). */
        public final float[] posteriors;

        Window(long start, boolean speech, float speechFrames, double statsCount, String statsSource,
                float[] posteriors) {
            this.start = start;
            this.speech = speech;
            this.speechFrames = speechFrames;
            this.statsCount = statsCount;
            this.statsSource = statsSource;
            this.posteriors = posteriors;
        }
    }

    /** Per-window and pooled results of one recording. */
    public static final class Result {
        /** {@link #OK} or {@value Gating#NO_SPEECH}. */
        public final String status;
        /** Start sample of each classified (speech) window (silent and non-speech ones left out, as predict's window_starts). */
        public final long[] windowStarts;
        /** Posteriors of the classified windows, in order. */
        public final float[][] posteriors;
        /** The pooled vector (predict's pooled; with max pooling also its pooled_max); null without speech. */
        public final float[] pooled;
        /** {@link #pooled} / its sum (predict's scores); null without speech. */
        public final float[] scores;
        /** Index of the winning class, -1 without speech. */
        public final int best;
        /** The winning label, null without speech. */
        public final String label;
        /** Length of the recording in samples at {@link #sampleRate}. */
        public final long samples;
        public final int sampleRate;
        /** All-zero windows left out of the pooling. */
        public final int silentWindows;
        /** Every window that was run, speech or not (predict's windows rows). */
        public final List<Window> windows;
        /** The stream's statistics after the last window (null for a model without statistics). */
        public final SpeakerStats statsAfter;
        /** predict's notes: short input, silent windows, windows without speech. */
        public final List<String> notes;

        Result(String status, long[] windowStarts, float[][] posteriors, float[] pooled, float[] scores, int best,
                String label, long samples, int sampleRate, int silentWindows, List<Window> windows,
                SpeakerStats statsAfter, List<String> notes) {
            this.status = status;
            this.windowStarts = windowStarts;
            this.posteriors = posteriors;
            this.pooled = pooled;
            this.scores = scores;
            this.best = best;
            this.label = label;
            this.samples = samples;
            this.sampleRate = sampleRate;
            this.silentWindows = silentWindows;
            this.windows = windows;
            this.statsAfter = statsAfter;
            this.notes = notes;
        }

        public double durationSeconds() {
            return samples / (double) sampleRate;
        }

        /** True when no window was speech: show {@value Gating#NO_SPEECH}, not an emotion. */
        public boolean noSpeech() {
            return label == null;
        }
    }

    private final ModelRunner runner;
    private final List<String> labels;
    private final int sampleRate;
    private final int window;
    private final int hop;
    private final int statsBands;
    private final boolean takesStats;
    private final SpeakerStatsRule rule;
    private final Gating gating;
    private final String pooling;

    /**
     * @param statsBands bands of the model's statistics tensors, 0 for a model without them
     * @param takesStats whether the model has the {@code speaker_stats} input
     */
    public UtteranceClassifier(ModelRunner runner, List<String> labels, int sampleRate, int window, int hop,
            int statsBands, boolean takesStats, SpeakerStatsRule rule, Gating gating) {
        this(runner, labels, sampleRate, window, hop, statsBands, takesStats, rule, gating, Pooling.MAX);
    }

    /** @param pooling {@link Pooling#MAX} or {@link Pooling#MEAN_LOG} */
    public UtteranceClassifier(ModelRunner runner, List<String> labels, int sampleRate, int window, int hop,
            int statsBands, boolean takesStats, SpeakerStatsRule rule, Gating gating, String pooling) {
        if (sampleRate <= 0 || window <= 0 || hop <= 0) {
            throw new IllegalArgumentException("sample rate, window and hop must be positive, got " + sampleRate
                    + ", " + window + ", " + hop);
        }
        if (runner == null) {
            throw new IllegalArgumentException("runner is null");
        }
        this.runner = runner;
        this.labels = labels;
        this.sampleRate = sampleRate;
        this.window = window;
        this.hop = hop;
        this.statsBands = statsBands;
        this.takesStats = takesStats;
        this.rule = rule != null ? rule : SpeakerStatsRule.defaults();
        this.gating = gating != null ? gating : Gating.defaults();
        this.pooling = Pooling.checkRule(pooling);
        newStream(null); // checks the band count
    }

    /** A probabilities-only model (no statistics, no gating: every window is speech). */
    public UtteranceClassifier(Classifier classifier, List<String> labels, int sampleRate, int window, int hop) {
        this(new ClassifierRunner(classifier), labels, sampleRate, window, hop, 0, false, null, null);
    }

    /** A probabilities-only model with the model's labels, rate, window and file-mode hop. */
    public UtteranceClassifier(Classifier classifier, ModelInfo info) {
        this(new ClassifierRunner(classifier), info.labels, info.sampleRate, info.windowSamples, info.hopSamples, 0,
                false, null, null, info.pooling);
    }

    /**
     * The model as its sidecar ({@code info}) and tensors ({@code roles}; null to trust the sidecar) describe
     * it, with the sidecar's labels, rate, window, file-mode hop, statistics rule, gating and pooling.
     */
    public UtteranceClassifier(ModelRunner runner, ModelInfo info, TensorRoles roles) {
        this(runner, info.labels, info.sampleRate, info.windowSamples, info.hopSamples,
                statsBands(info, roles), roles != null ? roles.takesStats() : info.takesSpeakerStats(),
                info.speakerStatsRule(), info.gating(), info.pooling);
    }

    /** The utterance decision rule ({@link Pooling#MAX} or {@link Pooling#MEAN_LOG}). */
    public String pooling() {
        return pooling;
    }

    private static int statsBands(ModelInfo info, TensorRoles roles) {
        boolean takes = roles != null ? roles.takesStats() : info.takesSpeakerStats();
        boolean windows = roles != null ? roles.gated() : info.hasWindowStats();
        return takes || windows ? info.nMels : 0;
    }

    /** A stream for this model from {@code start} (null: zero statistics, the model's defaults). */
    public SpeakerStream newStream(SpeakerStats start) {
        return new SpeakerStream(statsBands, takesStats, rule, gating, start);
    }

    /** Classify an in-memory recording at the model's rate (statistics from zero). */
    public Result classify(float[] wave) throws UnusableAudioException {
        try {
            return classify(new ArraySampleSource(wave));
        } catch (UnusableAudioException e) {
            throw e;
        } catch (IOException e) {
            throw new IllegalStateException("reading from memory failed", e); // ArraySampleSource does not throw
        }
    }

    /** {@link #classify(SampleSource, SpeakerStream, SpeakerStream)} with a stream from zero statistics. */
    public Result classify(SampleSource source) throws IOException {
        return classify(source, newStream(null), null);
    }

    /**
     * Classify a recording at the model's rate, read as it goes ({@code WavStream.at(rate)} for a file).
     *
     * @param stream the statistics the windows are run with, updated in place (predict's {@code tracker})
     * @param also null, or a second stream that gets the same updates (predict's {@code also}: the profile of
     *     {@code --profile})
     * @throws UnusableAudioException too short, or no signal
     * @throws IOException from the source (e.g. {@link WavFormatException})
     */
    public Result classify(SampleSource source, SpeakerStream stream, SpeakerStream also) throws IOException {
        SignalDetector input = new SignalDetector(source);
        WindowCutter cutter = new WindowCutter(input, window, hop);
        List<Long> starts = new ArrayList<Long>();
        List<float[]> post = new ArrayList<float[]>();
        List<Window> rows = new ArrayList<Window>();
        int silent = 0;
        while (cutter.next()) {
            if (cutter.sourceEnded()) {
                checkLength(cutter.samplesRead()); // refuse a too-short file before classifying it
            }
            float[] w = cutter.window();
            if (allZero(w)) {
                silent++;
                continue;
            }
            SpeakerStream.Ticket ticket = stream.before();
            WindowOutput out = runner.run(w.clone(), ticket.input);
            float[] p = out.probabilities;
            if (p.length != labels.size()) {
                throw new IllegalStateException("model returned " + p.length + " probabilities for "
                        + labels.size() + " labels");
            }
            boolean speech = stream.after(ticket, out);
            if (speech && also != null) {
                also.accept(out);
            }
            double count = stream.takesStats() ? ticket.count : Double.NaN;
            String statsSource = stream.takesStats() ? (count >= stream.rule().minStatsFrames ? "speaker" : "default")
                    : null;
            rows.add(new Window(cutter.start(), speech, out.speechFrames, count, statsSource, speech ? p : null));
            if (speech) {
                starts.add(cutter.start());
                post.add(p);
            }
        }
        long n = cutter.samplesRead();
        checkLength(n);
        if (!input.sawSignal || rows.isEmpty()) {
            throw new UnusableAudioException(UnusableAudioException.Reason.NO_SIGNAL,
                    "no signal (every sample is zero), nothing to classify");
        }
        double seconds = n / (double) sampleRate;
        List<String> notes = new ArrayList<String>();
        if (seconds < SHORT_NOTE_SECONDS) {
            notes.add("short input (" + fixed(seconds, 2) + " s): the model was trained on utterances of 1.2 s and more");
        }
        if (silent > 0) {
            notes.add(silent + " silent window(s) left out of the pooling");
        }
        long[] startArray = new long[starts.size()];
        for (int i = 0; i < startArray.length; i++) {
            startArray[i] = starts.get(i);
        }
        float[][] posteriors = post.toArray(new float[post.size()][]);
        List<Window> windows = Collections.unmodifiableList(rows);
        SpeakerStats after = stream.snapshot();
        if (post.isEmpty()) {
            return new Result(Gating.NO_SPEECH, startArray, posteriors, null, null, -1, null, n, sampleRate, silent,
                    windows, after, Collections.unmodifiableList(notes));
        }
        float[] pooled = Pooling.pool(posteriors, pooling);
        float sum = 0f;
        for (float v : pooled) {
            sum += v;
        }
        float[] scores = new float[pooled.length];
        for (int c = 0; c < pooled.length; c++) {
            scores[c] = pooled[c] / sum;
        }
        int best = Pooling.argmax(pooled);
        int skipped = rows.size() - post.size();
        if (skipped > 0) {
            notes.add(skipped + " window(s) without speech left out of the pooling");
        }
        return new Result(OK, startArray, posteriors, pooled, scores, best, labels.get(best), n, sampleRate, silent,
                windows, after, Collections.unmodifiableList(notes));
    }

    private void checkLength(long n) throws UnusableAudioException {
        double seconds = n / (double) sampleRate;
        if (seconds < MIN_SECONDS) {
            throw new UnusableAudioException(UnusableAudioException.Reason.TOO_SHORT,
                    "too short (" + fixed(seconds, 3) + " s; need at least " + MIN_SECONDS + " s)");
        }
    }

    static boolean allZero(float[] w) {
        for (float x : w) {
            if (x != 0f) {
                return false;
            }
        }
        return true;
    }

    /** {@code value} with {@code digits} decimals, rounded half-even on its exact binary value (Python's format). */
    static String fixed(double value, int digits) {
        return new BigDecimal(value).setScale(digits, RoundingMode.HALF_EVEN).toPlainString();
    }

    /** Passes samples through and records whether any of them is not exactly zero. */
    private static final class SignalDetector implements SampleSource {
        private final SampleSource in;
        boolean sawSignal;

        SignalDetector(SampleSource in) {
            this.in = in;
        }

        @Override
        public int read(float[] dst, int off, int len) throws IOException {
            int n = in.read(dst, off, len);
            for (int i = 0; i < n && !sawSignal; i++) {
                sawSignal = dst[off + i] != 0f;
            }
            return n;
        }
    }
}
