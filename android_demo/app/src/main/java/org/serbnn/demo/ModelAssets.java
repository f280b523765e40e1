package org.serbnn.demo;

import android.content.res.AssetFileDescriptor;
import android.content.res.AssetManager;

import java.io.ByteArrayOutputStream;
import java.io.FileInputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;

import org.serbnn.core.ModelInfo;

/**
 * The files tools/copy_model.sh (or the Gradle task copyModel) put into the APK's assets:
 * model.tflite, model.labels.txt and/or model.json (from `ser-bnn export`), optionally sample.wav.
 */
final class ModelAssets {
    static final String MODEL = "model.tflite";
    static final String LABELS = "model.labels.txt";
    static final String SIDECAR = "model.json";
    static final String SAMPLE = "sample.wav";

    private ModelAssets() {
    }

    static boolean exists(AssetManager assets, String name) {
        try {
            InputStream in = assets.open(name);
            in.close();
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static ModelInfo loadInfo(AssetManager assets) throws IOException {
        String labels = exists(assets, LABELS) ? readText(assets, LABELS) : null;
        String json = exists(assets, SIDECAR) ? readText(assets, SIDECAR) : null;
        if (labels == null && json == null) {
            throw new FileNotFoundException("no " + LABELS + " or " + SIDECAR + " in assets");
        }
        return ModelInfo.fromSidecars(labels, json);
    }

    /** The model memory-mapped from the APK (stored uncompressed), or read into memory otherwise. */
    static ByteBuffer loadModel(AssetManager assets) throws IOException {
        try {
            AssetFileDescriptor fd = assets.openFd(MODEL);
            try {
                FileInputStream in = new FileInputStream(fd.getFileDescriptor());
                try {
                    return in.getChannel().map(FileChannel.MapMode.READ_ONLY, fd.getStartOffset(), fd.getDeclaredLength());
                } finally {
                    in.close();
                }
            } finally {
                fd.close();
            }
        } catch (FileNotFoundException compressedOrMissing) {
            byte[] bytes = readBytes(assets, MODEL); // throws FileNotFoundException if really missing
            ByteBuffer buf = ByteBuffer.allocateDirect(bytes.length).order(ByteOrder.nativeOrder());
            buf.put(bytes);
            buf.rewind();
            return buf;
        }
    }

    static String readText(AssetManager assets, String name) throws IOException {
        return new String(readBytes(assets, name), "UTF-8");
    }

    static byte[] readBytes(AssetManager assets, String name) throws IOException {
        InputStream in = assets.open(name);
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) != -1) {
                out.write(buf, 0, n);
            }
            return out.toByteArray();
        } finally {
            in.close();
        }
    }
}
