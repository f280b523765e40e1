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
import android.provider.OpenableColumns;
import android.provider.Settings;
import android.view.View;
import android.widget.Button;
import android.widget.RadioGroup;
import android.widget.SeekBar;
import android.widget.TextView;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;

import org.serbnn.core.Clock;
import org.serbnn.core.ControlState;
import org.serbnn.core.FileClassification;
import org.serbnn.core.LiveClassifier;
import org.serbnn.core.LiveMode;
import org.serbnn.core.ModelInfo;
import org.serbnn.core.SpeakerSession;
import org.serbnn.core.StatusText;

/**
 * The app's screen: view binding, the microphone permission, the file picker and the lifecycle. What it
 * shows and decides lives in the core: live sessions in {@link LiveMode}, file mode in
 * {@link FileClassification} (predict's rules, {@code UtteranceClassifier}), the speaker profile in
 * {@link SpeakerSession}, the lines in {@link StatusText}, which buttons accept taps in {@link ControlState}.
 * All inference and profile writes run on one background thread.
 */
public final class MainActivity extends Activity implements LiveMode.Display {
    private static final int REQ_MIC = 1;
    private static final int REQ_PICK = 2;
    private static final int NUM_THREADS = 2;
    private static final String PROFILE_FILE = "speaker_profile.json";
    /** Live mode writes the profile at most this often (and whenever the app leaves the foreground). */
    private static final long PROFILE_SAVE_INTERVAL_MS = 15000;

    private final ExecutorService inference = Executors.newSingleThreadExecutor();
    private final Handler ui = new Handler(Looper.getMainLooper());
    private final Executor uiExecutor = new Executor() {
        @Override
        public void execute(Runnable r) {
            ui.post(r);
        }
    };
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

    /** Set on the inference thread when the model is loaded; closed there on destroy. */
    private volatile LceClassifier classifier;
    private volatile ModelInfo info;
    private volatile SpeakerSession speaker;
    /** Created when the model is ready (UI thread). */
    private LiveMode live;

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
        hopBar.setProgress(LiveMode.DEFAULT_HOP_STEP);
        showHop();
        listenToControls();
        updateButtons();
        inference.execute(new Runnable() {
            @Override
            public void run() {
                loadModel();
            }
        });
    }

    private void listenToControls() {
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
                    live.setDecision(decision());
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
    }

    private void updateButtons() {
        liveButton.setEnabled(controls.liveButtonEnabled());
        pickButton.setEnabled(controls.pickButtonEnabled());
        sampleButton.setEnabled(controls.sampleButtonEnabled());
        newSpeakerButton.setEnabled(controls.newSpeakerButtonEnabled());
    }

    private void runOnInference(Runnable r) {
        try {
            inference.execute(r);
        } catch (RejectedExecutionException ignored) {
            // shutting down
        }
    }

    // ---------------------------------------------------------------- model

    /** Inference thread. */
    private void loadModel() {
        try {
            final ModelInfo mi = ModelAssets.loadInfo(getAssets());
            ByteBuffer model = ModelAssets.loadModel(getAssets());
            LceClassifier c = new LceClassifier(model, NUM_THREADS, mi); // tensors by shape, checked against the sidecar
            final SpeakerSession sp = SpeakerSession.open(mi, c.roles(), new File(getFilesDir(), PROFILE_FILE),
                    PROFILE_SAVE_INTERVAL_MS, Clock.MONOTONIC); // a bad profile is reported and left alone
            classifier = c;
            speaker = sp;
            info = mi;
            final boolean hasSample = ModelAssets.exists(getAssets(), ModelAssets.SAMPLE);
            final boolean gated = c.roles().gated();
            ui.post(new Runnable() {
                @Override
                public void run() {
                    onModelReady(mi, sp, gated, hasSample);
                }
            });
        } catch (IOException | LinkageError | RuntimeException e) {
            final String message = StatusText.modelLoadFailed(e);
            ui.post(new Runnable() {
                @Override
                public void run() {
                    controls.modelFailed();
                    updateButtons();
                    status.setText(message);
                }
            });
        }
    }

    private void onModelReady(ModelInfo mi, SpeakerSession sp, boolean gated, boolean hasSample) {
        live = new LiveMode(classifier, mi, sp, inference, uiExecutor, MicRecorder.MICROPHONE, this);
        bars.setLabels(mi.labels);
        status.setText(StatusText.modelReady(mi, gated, sp.stream().gating()));
        speakerStatus.setText(sp.hasProfile() ? sp.startStatus() : getString(R.string.speaker_unused));
        controls.modelReady(hasSample, sp.hasProfile());
        updateButtons();
    }

    /** "New speaker": zero statistics, written at once (inference thread, after any window in progress). */
    private void newSpeaker() {
        final SpeakerSession sp = speaker;
        if (!controls.newSpeakerButtonEnabled() || sp == null) {
            return;
        }
        if (live != null) {
            live.setDecision(decision()); // the shown decision was the previous speaker's
        }
        runOnInference(new Runnable() {
            @Override
            public void run() {
                postSpeakerLine(sp.newSpeaker());
            }
        });
    }

    /** Inference thread: write the profile if it changed (leaving the foreground). */
    private void saveProfile() {
        SpeakerSession sp = speaker;
        if (sp != null) {
            postSpeakerLine(sp.saveNow());
        }
    }

    private void postSpeakerLine(final String line) {
        if (line == null) {
            return;
        }
        ui.post(new Runnable() {
            @Override
            public void run() {
                speakerStatus.setText(line);
            }
        });
    }

    // ---------------------------------------------------------------- live mode

    private boolean isLive() {
        return live != null && live.isLive();
    }

    private double hopSeconds() {
        return LiveMode.hopSeconds(hopBar.getProgress());
    }

    private void showHop() {
        hopLabel.setText(getString(R.string.hop_label, hopSeconds()));
    }

    private LiveMode.Decision decision() {
        int id = pooling.getCheckedRadioButtonId();
        if (id == R.id.pool_max) {
            return LiveMode.Decision.MAX;
        }
        return id == R.id.pool_latest ? LiveMode.Decision.LATEST : LiveMode.Decision.SMOOTHED;
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
        String line = live.start(hopSeconds(), decision());
        controls.liveStarted();
        updateButtons();
        liveButton.setText(R.string.stop_live);
        status.setText(line);
    }

    /** Never blocks: the recorder thread ends on its own and the session's late results are ignored. */
    private void stopLive() {
        if (live != null) {
            live.stop();
        }
        liveStopped();
    }

    private void liveStopped() {
        controls.liveStopped();
        updateButtons();
        liveButton.setText(R.string.start_live);
    }

    @Override
    public void showWindow(LiveClassifier.Update u, String text) {
        if (u.speech) {
            showResult(u.shown, u.best, text);
        } else {
            showNoSpeech(text);
        }
    }

    @Override
    public void showSpeaker(String line) {
        speakerStatus.setText(line);
    }

    @Override
    public void stoppedWithError(String message) {
        liveStopped();
        status.setText(message);
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
        final LceClassifier c = classifier;
        final ModelInfo mi = info;
        if (!controls.canClassifyFile() || c == null) {
            return;
        }
        stopLive();
        controls.fileStarted();
        updateButtons();
        status.setText("Classifying " + name + "…");
        final FileClassification.Source source = new FileClassification.Source() {
            @Override
            public InputStream open() throws IOException {
                return uri != null ? getContentResolver().openInputStream(uri) : getAssets().open(name);
            }
        };
        try {
            inference.execute(new Runnable() {
                @Override
                public void run() {
                    final FileClassification.Outcome o = FileClassification.run(name, source, c, mi, c.roles(),
                            Clock.MONOTONIC);
                    ui.post(new Runnable() {
                        @Override
                        public void run() {
                            fileDone(o);
                        }
                    });
                }
            });
        } catch (RejectedExecutionException e) {
            controls.fileFinished(); // shutting down
            updateButtons();
        }
    }

    private void fileDone(FileClassification.Outcome o) {
        controls.fileFinished();
        updateButtons();
        status.setText(o.status);
        if (!o.classified()) {
            return;
        }
        if (o.result.noSpeech()) {
            showNoSpeech(o.details);
        } else {
            showResult(o.result.scores, o.result.best, o.details);
        }
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
                saveProfile(); // after the windows still queued
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
                    saveProfile();
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
