package org.serbnn.demo;

import android.Manifest;
import android.app.Activity;
import android.app.AlertDialog;
import android.content.DialogInterface;
import android.content.Intent;
import android.content.pm.PackageManager;
import android.database.Cursor;
import android.net.Uri;
import android.os.Bundle;
import android.os.Handler;
import android.os.Looper;
import android.os.SystemClock;
import android.provider.OpenableColumns;
import android.provider.Settings;
import android.view.View;
import android.widget.Button;
import android.widget.RadioGroup;
import android.widget.SeekBar;
import android.widget.TextView;

import java.io.BufferedInputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;

import org.serbnn.core.ControlState;
import org.serbnn.core.Gating;
import org.serbnn.core.LiveClassifier;
import org.serbnn.core.LiveWindower;
import org.serbnn.core.ModelInfo;
import org.serbnn.core.ModelRunner;
import org.serbnn.core.Pooling;
import org.serbnn.core.PosteriorSmoother;
import org.serbnn.core.ProfileStore;
import org.serbnn.core.SpeakerStream;
import org.serbnn.core.TensorRoles;
import org.serbnn.core.UnusableAudioException;
import org.serbnn.core.UtteranceClassifier;
import org.serbnn.core.WavFormatException;
import org.serbnn.core.WavStream;
import org.serbnn.core.Windowing;

/**
 * Live mode: the microphone feeds a ring buffer; every hop the latest 3 s window is classified and the
 * posteriors are smoothed (or max-pooled) ({@link LiveClassifier}). File mode: a picked or bundled WAV is
 * streamed through the windows `ser-bnn predict` uses, each classified, pooled by the sidecar's rule, with predict's
 * rules for silent windows and short or silent files ({@link UtteranceClassifier}). All inference runs
 * on one background thread; which buttons accept taps is {@link ControlState}'s decision.
 *
 * <p>Speaker statistics (norm "speaker" models, see deploy/INTEGRATION.md): live mode runs every window
 * with the speaker's statistics accumulated before it and adds each speech window's statistics
 * ({@link SpeakerStream}); they are kept across launches in files/speaker_profile.json, the format of
 * {@code ser-bnn predict --profile} ({@link ProfileStore}), and "New speaker" resets them. File mode is
 * {@code ser-bnn predict FILE}: each file streams from zero statistics and leaves the profile alone.
 * Windows without speech show "no speech" instead of an emotion. The logic is in the core; this class
 * only wires it to the views and threads.
 */
public final class MainActivity extends Activity implements LiveClassifier.Listener {
    private static final int REQ_MIC = 1;
    private static final int REQ_PICK = 2;
    private static final int NUM_THREADS = 2;
    private static final float SMOOTHING_ALPHA = 0.3f;
    private static final int DEFAULT_HOP_STEP = 3; // (3 + 1) * 0.25 s = 1 s
    private static final int MAX_WINDOW_LINES = 40;
    private static final String PROFILE_FILE = "speaker_profile.json";
    /** Live mode writes the profile at most this often (and whenever the app leaves the foreground). */
    private static final long PROFILE_SAVE_INTERVAL_MS = 15000;

    private final ExecutorService inference = Executors.newSingleThreadExecutor();
    private final Handler ui = new Handler(Looper.getMainLooper());
    private final ControlState controls = new ControlState();

    private TextView status;
    private TextView emotion;
    private TextView details;
    private TextView hopLabel;
    private TextView speakerStatus;
    private Button newSpeakerButton;
    private PosteriorBarsView bars;
    private Button liveButton;
    private Button pickButton;
    private Button sampleButton;
    private SeekBar hopBar;
    private RadioGroup pooling;

    private volatile LceClassifier classifier;
    private volatile ModelInfo info;
    private volatile TensorRoles roles;
    /** The speaker's statistics (SpeakerStream.none() for a model without them). */
    private volatile SpeakerStream speaker;
    /** Their file; null for a model without speaker statistics. Used on the inference thread only. */
    private volatile ProfileStore profile;
    /** Created when the model is ready (UI thread); read by the recorder thread through a final local. */
    private LiveClassifier live;
    private MicRecorder recorder;
    /** The last stopped recorder: a new one waits for it to release the microphone. */
    private MicRecorder previousRecorder;

    @Override
    protected void onCreate(Bundle savedInstanceState) {
        super.onCreate(savedInstanceState);
        setContentView(R.layout.activity_main);
        status = (TextView) findViewById(R.id.status);
        emotion = (TextView) findViewById(R.id.emotion);
        details = (TextView) findViewById(R.id.details);
        hopLabel = (TextView) findViewById(R.id.hop_label);
        speakerStatus = (TextView) findViewById(R.id.speaker_status);
        newSpeakerButton = (Button) findViewById(R.id.new_speaker);
        bars = (PosteriorBarsView) findViewById(R.id.bars);
        liveButton = (Button) findViewById(R.id.live);
        pickButton = (Button) findViewById(R.id.pick);
        sampleButton = (Button) findViewById(R.id.sample);
        hopBar = (SeekBar) findViewById(R.id.hop);
        pooling = (RadioGroup) findViewById(R.id.pooling);

        hopBar.setProgress(DEFAULT_HOP_STEP);
        showHop();
        hopBar.setOnSeekBarChangeListener(new SeekBar.OnSeekBarChangeListener() {
            @Override
            public void onProgressChanged(SeekBar seekBar, int progress, boolean fromUser) {
                showHop();
            }

            @Override
            public void onStartTrackingTouch(SeekBar seekBar) {
            }

            @Override
            public void onStopTrackingTouch(SeekBar seekBar) {
                if (isLive()) { // restart with the new hop; the new recorder waits for the old one off the UI thread
                    stopLive();
                    startLive();
                }
            }
        });
        pooling.setOnCheckedChangeListener(new RadioGroup.OnCheckedChangeListener() {
            @Override
            public void onCheckedChanged(RadioGroup group, int checkedId) {
                if (live != null) {
                    live.setSmoother(newSmoother());
                }
            }
        });
        liveButton.setOnClickListener(new View.OnClickListener() {
            @Override
            public void onClick(View v) {
                if (isLive()) {
                    stopLive();
                } else if (controls.canStartLive()) {
                    requestMicThenStart();
                }
            }
        });
        pickButton.setOnClickListener(new View.OnClickListener() {
            @Override
            public void onClick(View v) {
                if (!controls.canClassifyFile()) {
                    return;
                }
                Intent pick = new Intent(Intent.ACTION_OPEN_DOCUMENT);
                pick.addCategory(Intent.CATEGORY_OPENABLE);
                pick.setType("audio/*");
                startActivityForResult(pick, REQ_PICK);
            }
        });
        sampleButton.setOnClickListener(new View.OnClickListener() {
            @Override
            public void onClick(View v) {
                classifyFile(null, ModelAssets.SAMPLE);
            }
        });
        newSpeakerButton.setOnClickListener(new View.OnClickListener() {
            @Override
            public void onClick(View v) {
                newSpeaker();
            }
        });
        updateButtons();
        inference.execute(new Runnable() {
            @Override
            public void run() {
                loadModel();
            }
        });
    }

    private void updateButtons() {
        liveButton.setEnabled(controls.liveButtonEnabled());
        pickButton.setEnabled(controls.pickButtonEnabled());
        sampleButton.setEnabled(controls.sampleButtonEnabled());
        newSpeakerButton.setEnabled(controls.newSpeakerButtonEnabled());
    }

    // ---------------------------------------------------------------- model

    private void loadModel() {
        String error;
        try {
            final ModelInfo mi = ModelAssets.loadInfo(getAssets());
            ByteBuffer model = ModelAssets.loadModel(getAssets());
            LceClassifier c = new LceClassifier(model, NUM_THREADS, mi); // tensors by shape, checked against the sidecar
            SpeakerStream sp = SpeakerStream.forModel(mi, c.roles(), null);
            String speakerText = getString(R.string.speaker_unused);
            if (sp.takesStats()) {
                ProfileStore store = new ProfileStore(new File(getFilesDir(), PROFILE_FILE), sp, mi.nMels,
                        PROFILE_SAVE_INTERVAL_MS);
                speakerText = store.load(); // a bad file is reported and left alone
                profile = store;
            }
            classifier = c;
            roles = c.roles();
            speaker = sp;
            info = mi;
            final boolean hasSample = ModelAssets.exists(getAssets(), ModelAssets.SAMPLE);
            final String speakerLine = speakerText;
            ui.post(new Runnable() {
                @Override
                public void run() {
                    onModelReady(mi, hasSample, speakerLine);
                }
            });
            return;
        } catch (IOException e) {
            error = "No model in the app's assets (" + e.getMessage() + "). Copy one in with "
                    + "tools/copy_model.sh and rebuild: see android_demo/README.md.";
        } catch (LinkageError e) {
            error = "LCE Lite runtime missing from this APK (" + e + "). Build with Gradle and the "
                    + "org.larq:lce-lite AAR: see android_demo/README.md.";
        } catch (RuntimeException e) {
            error = "Cannot load the model: " + e.getMessage();
        }
        final String message = error;
        ui.post(new Runnable() {
            @Override
            public void run() {
                controls.modelFailed();
                updateButtons();
                status.setText(message);
            }
        });
    }

    private void onModelReady(ModelInfo mi, boolean hasSample, String speakerLine) {
        live = new LiveClassifier(classifier, speaker, mi.numClasses(), inference, this);
        bars.setLabels(mi.labels);
        status.setText(String.format(Locale.US, "Model: %d classes, %.1f s windows at %d Hz%s.",
                mi.numClasses(), mi.windowSamples / (double) mi.sampleRate, mi.sampleRate,
                roles.gated() ? String.format(Locale.US, ", speech gating (>= %.0f speech frames)",
                        speaker.gating().minSpeechFrames) : ""));
        speakerStatus.setText(speakerLine);
        controls.modelReady(hasSample, profile != null);
        updateButtons();
    }

    // ---------------------------------------------------------------- speaker profile

    /** "New speaker": zero statistics, written at once (inference thread, after any window in progress). */
    private void newSpeaker() {
        if (!controls.newSpeakerButtonEnabled() || profile == null) {
            return;
        }
        if (live != null) {
            live.setSmoother(newSmoother()); // the shown decision was the previous speaker's
        }
        runOnInference(new Runnable() {
            @Override
            public void run() {
                String text;
                try {
                    profile.newSpeaker(SystemClock.elapsedRealtime());
                    text = "New speaker: " + ProfileStore.describe(speaker.snapshot(), speaker.rule());
                } catch (IOException e) {
                    text = "Cannot write the speaker profile: " + e.getMessage();
                }
                postSpeakerStatus(text);
            }
        });
    }

    /** Inference thread: write the profile if due ({@code force}: whenever it changed). */
    private void saveProfile(boolean force) {
        ProfileStore p = profile;
        if (p == null) {
            return;
        }
        try {
            if (force) {
                p.save();
            } else {
                p.saveIfDue(SystemClock.elapsedRealtime());
            }
        } catch (IOException e) {
            postSpeakerStatus("Cannot write the speaker profile: " + e.getMessage());
        }
    }

    private void postSpeakerStatus(final String text) {
        ui.post(new Runnable() {
            @Override
            public void run() {
                speakerStatus.setText(text);
            }
        });
    }

    private void runOnInference(Runnable r) {
        try {
            inference.execute(r);
        } catch (RejectedExecutionException ignored) {
            // shutting down
        }
    }

    // ---------------------------------------------------------------- live mode

    private boolean isLive() {
        return recorder != null;
    }

    private int hopSamples() {
        int rate = info != null ? info.sampleRate : Windowing.SAMPLE_RATE;
        return Windowing.hopSamples(hopSeconds(), rate);
    }

    private double hopSeconds() {
        return (hopBar.getProgress() + 1) * 0.25;
    }

    private void showHop() {
        hopLabel.setText(getString(R.string.hop_label, hopSeconds()));
    }

    private PosteriorSmoother newSmoother() {
        int id = pooling.getCheckedRadioButtonId();
        if (id == R.id.pool_max) {
            return PosteriorSmoother.max();
        }
        return PosteriorSmoother.exponential(id == R.id.pool_latest ? 1f : SMOOTHING_ALPHA);
    }

    private void requestMicThenStart() {
        if (checkSelfPermission(Manifest.permission.RECORD_AUDIO) == PackageManager.PERMISSION_GRANTED) {
            startLive();
        } else if (shouldShowRequestPermissionRationale(Manifest.permission.RECORD_AUDIO)) {
            new AlertDialog.Builder(this)
                    .setMessage(R.string.mic_rationale)
                    .setPositiveButton(R.string.ok, new DialogInterface.OnClickListener() {
                        @Override
                        public void onClick(DialogInterface dialog, int which) {
                            requestPermissions(new String[] {Manifest.permission.RECORD_AUDIO}, REQ_MIC);
                        }
                    })
                    .setNegativeButton(R.string.cancel, null)
                    .show();
        } else {
            requestPermissions(new String[] {Manifest.permission.RECORD_AUDIO}, REQ_MIC);
        }
    }

    @Override
    public void onRequestPermissionsResult(int requestCode, String[] permissions, int[] grantResults) {
        if (requestCode != REQ_MIC) {
            return;
        }
        if (grantResults.length > 0 && grantResults[0] == PackageManager.PERMISSION_GRANTED) {
            startLive();
        } else if (!shouldShowRequestPermissionRationale(Manifest.permission.RECORD_AUDIO)) {
            // "Don't ask again" (or a policy): only the settings screen can grant it now
            new AlertDialog.Builder(this)
                    .setMessage(R.string.mic_denied_forever)
                    .setPositiveButton(R.string.open_settings, new DialogInterface.OnClickListener() {
                        @Override
                        public void onClick(DialogInterface dialog, int which) {
                            startActivity(new Intent(Settings.ACTION_APPLICATION_DETAILS_SETTINGS,
                                    Uri.fromParts("package", getPackageName(), null)));
                        }
                    })
                    .setNegativeButton(R.string.cancel, null)
                    .show();
        } else {
            status.setText(R.string.mic_denied);
        }
    }

    private void startLive() {
        if (isLive() || live == null || !controls.canStartLive()) {
            return;
        }
        final LiveClassifier lc = live;
        final LiveWindower session = new LiveWindower(info.windowSamples, hopSamples(), 1);
        lc.begin(session, newSmoother());
        recorder = new MicRecorder(info.sampleRate, new MicRecorder.Listener() {
            @Override
            public void onSamples(float[] samples, int count) {
                lc.push(session, samples, count); // recording thread; ignored once the session is over
            }

            @Override
            public void onRecorderError(final String message) {
                ui.post(new Runnable() {
                    @Override
                    public void run() {
                        if (lc.isCurrent(session)) {
                            stopLive();
                            status.setText("Microphone: " + message);
                        }
                    }
                });
            }
        }, previousRecorder);
        recorder.start();
        controls.liveStarted();
        updateButtons();
        liveButton.setText(R.string.stop_live);
        status.setText(String.format(Locale.US, "Listening: a window every %.2f s.", hopSeconds()));
    }

    /** Never blocks: the recorder thread ends on its own and the session's late results are ignored. */
    private void stopLive() {
        if (recorder != null) {
            recorder.stop();
            previousRecorder = recorder;
            recorder = null;
        }
        if (live != null) {
            live.end();
        }
        controls.liveStopped();
        updateButtons();
        liveButton.setText(R.string.start_live);
    }

    /** Inference thread. */
    @Override
    public void onLiveUpdate(final LiveClassifier.Update u) {
        final int rate = info.sampleRate;
        final String text = String.format(Locale.US, "live: %s, %d speech window(s), %d dropped, %d ms/window, t=%.1f s",
                u.speech ? "speech" : Gating.NO_SPEECH + (Float.isNaN(u.speechFrames) ? ""
                        : String.format(Locale.US, " (%.0f speech frames)", u.speechFrames)),
                u.windows, u.dropped, u.inferenceMs, u.samples / (double) rate);
        final SpeakerStream sp = speaker;
        final String speakerLine = profile == null ? null
                : "Speaker: " + ProfileStore.describe(sp.snapshot(), sp.rule());
        if (u.speech) {
            saveProfile(false);
        }
        ui.post(new Runnable() {
            @Override
            public void run() {
                if (!live.isCurrent(u)) { // from a stopped or restarted session
                    return;
                }
                if (u.speech) {
                    showResult(u.shown, u.best, text);
                } else {
                    showNoSpeech(text);
                }
                if (speakerLine != null) {
                    speakerStatus.setText(speakerLine);
                }
            }
        });
    }

    /** Inference thread. */
    @Override
    public void onLiveError(final LiveWindower session, final String message) {
        ui.post(new Runnable() {
            @Override
            public void run() {
                if (live.isCurrent(session)) {
                    stopLive();
                    status.setText(message);
                }
            }
        });
    }

    // ---------------------------------------------------------------- file mode

    @Override
    protected void onActivityResult(int requestCode, int resultCode, Intent data) {
        super.onActivityResult(requestCode, resultCode, data);
        if (requestCode == REQ_PICK && resultCode == RESULT_OK && data != null && data.getData() != null) {
            Uri uri = data.getData();
            classifyFile(uri, displayName(uri));
        }
    }

    /** The picked document's file name as the provider shows it, else the URI's last segment. */
    private String displayName(Uri uri) {
        Cursor c = null;
        try {
            c = getContentResolver().query(uri, new String[] {OpenableColumns.DISPLAY_NAME}, null, null, null);
            if (c != null && c.moveToFirst() && !c.isNull(0)) {
                return c.getString(0);
            }
        } catch (RuntimeException e) {
            // fall through: some providers refuse queries
        } finally {
            if (c != null) {
                c.close();
            }
        }
        return uri.getLastPathSegment();
    }

    /** Classify a picked document ({@code uri}) or, with a null uri, the bundled asset {@code name}. */
    private void classifyFile(final Uri uri, final String name) {
        if (!controls.canClassifyFile() || classifier == null) {
            return;
        }
        stopLive();
        controls.fileStarted();
        updateButtons();
        status.setText("Classifying " + name + "…");
        final ModelRunner c = classifier;
        final ModelInfo mi = info;
        final TensorRoles tr = roles;
        try {
            inference.execute(new Runnable() {
                @Override
                public void run() {
                    classifyFileJob(c, mi, tr, uri, name);
                }
            });
        } catch (RejectedExecutionException e) {
            controls.fileFinished(); // shutting down
            updateButtons();
        }
    }

    /** Inference thread: stream the file through the windows, post the result or one line of error. */
    private void classifyFileJob(ModelRunner c, ModelInfo mi, TensorRoles tr, Uri uri, final String name) {
        String error;
        try {
            InputStream in = uri != null ? getContentResolver().openInputStream(uri) : getAssets().open(name);
            if (in == null) {
                throw new IOException("cannot open " + uri);
            }
            try {
                WavStream wav = WavStream.open(new BufferedInputStream(in, 1 << 16));
                long t0 = SystemClock.elapsedRealtime();
                // ser-bnn predict FILE: statistics from zero for this file, the speaker profile untouched
                UtteranceClassifier.Result r = new UtteranceClassifier(c, mi, tr).classify(wav.at(mi.sampleRate));
                long ms = SystemClock.elapsedRealtime() - t0;
                final UtteranceClassifier.Result result = r;
                final String text = describe(name, wav, r, mi, ms);
                ui.post(new Runnable() {
                    @Override
                    public void run() {
                        fileDone("File: " + name);
                        if (result.noSpeech()) {
                            showNoSpeech(text);
                        } else {
                            showResult(result.scores, result.best, text);
                        }
                    }
                });
                return;
            } finally {
                in.close();
            }
        } catch (UnusableAudioException e) {
            error = name + ": " + e.getMessage();
        } catch (WavFormatException e) {
            error = name + ": " + e.getMessage();
        } catch (IOException e) {
            error = "Cannot read " + name + ": " + e.getMessage();
        } catch (RuntimeException e) {
            error = "Classification failed: " + e;
        } catch (OutOfMemoryError e) {
            error = "Out of memory while classifying " + name;
        }
        final String message = error;
        ui.post(new Runnable() {
            @Override
            public void run() {
                fileDone(message);
            }
        });
    }

    private void fileDone(String message) {
        controls.fileFinished();
        updateButtons();
        status.setText(message);
    }

    private static String describe(String name, WavStream wav, UtteranceClassifier.Result r, ModelInfo mi, long ms) {
        int n = r.windows.size();
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.US, "%s: %.2f s, %d Hz%s, %d ch, %d window(s) run, %d classified (speech),"
                + " %d ms/window\n", name, r.durationSeconds(), wav.sampleRate,
                wav.sampleRate == mi.sampleRate ? "" : " (resampled)", wav.channels, n, r.posteriors.length,
                ms / Math.max(1, n)));
        for (int i = 0; i < Math.min(n, MAX_WINDOW_LINES); i++) {
            UtteranceClassifier.Window w = r.windows.get(i);
            String what;
            if (w.posteriors == null) {
                what = String.format(Locale.US, "%s (%.0f speech frames)", Gating.NO_SPEECH, w.speechFrames);
            } else {
                int b = Pooling.argmax(w.posteriors);
                what = String.format(Locale.US, "%s %.2f", mi.label(b), w.posteriors[b]);
            }
            String stats = Double.isNaN(w.statsCount) ? ""
                    : String.format(Locale.US, " [%s statistics, %.0f frames]", w.statsSource, w.statsCount);
            sb.append(String.format(Locale.US, "  window %d @ %.2f s: %s%s\n", i, w.start / (double) mi.sampleRate,
                    what, stats));
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

    private void showResult(float[] probabilities, int best, String text) {
        bars.setValues(probabilities, best);
        emotion.setText(info.label(best));
        details.setText(text);
    }

    /** A window or file without speech: "no speech" instead of an emotion, empty bars. */
    private void showNoSpeech(String text) {
        bars.setValues(new float[info.numClasses()], -1);
        emotion.setText(R.string.no_speech);
        details.setText(text);
    }

    // ---------------------------------------------------------------- lifecycle

    @Override
    protected void onPause() {
        super.onPause();
        stopLive(); // never record in the background
        runOnInference(new Runnable() {
            @Override
            public void run() {
                saveProfile(true); // after the windows still queued
            }
        });
    }

    @Override
    protected void onDestroy() {
        super.onDestroy();
        stopLive();
        try {
            inference.execute(new Runnable() {
                @Override
                public void run() {
                    saveProfile(true);
                    LceClassifier c = classifier;
                    classifier = null;
                    if (c != null) {
                        c.close();
                    }
                }
            });
        } catch (RejectedExecutionException ignored) {
            // already shut down
        }
        inference.shutdown();
    }
}
