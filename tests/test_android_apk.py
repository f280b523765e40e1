"""Build the Android demo's debug APK without Gradle (android_demo/tools/build_apk_debian.sh) and check it.

The build uses Debian's aapt, dx (dalvik-exchange), zipalign, apksigner and the API 23 android.jar
(libandroid-23-java); the TFLite Interpreter is a compile-only stub, so this APK cannot run inference.
The test packages what tools/copy_model.sh copies by default, the bundled pretrained model
(ser_bnn/pretrained/: .tflite, labels and JSON sidecar), and checks:
aapt's badging (package, launcher activity, RECORD_AUDIO, SDK levels), apksigner's
verification, the model stored uncompressed and 4-byte aligned (so the app can memory-map it), and
the dex: app and core classes present, no org.tensorflow classes (the stub stays out of the dex) and
no org.json classes (the core's JSON parser is the device's, from android.jar).

The build test needs the real Emo-DB for its bundled sample (fails without it, see conftest.emodb_dir) and
skips, naming what is missing, when those Debian tools or keytool/javac are not installed
(android_demo/tools/install_debian_deps.sh installs them; under CI=true a skip is a failure).
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import zipfile
from pathlib import Path

from conftest import require_system

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "android_demo"
ANDROID_JAR = Path("/usr/lib/android-sdk/platforms/android-23/android.jar")
BUNDLED = ROOT / "ser_bnn" / "pretrained"


def _missing_tools() -> list[str]:
    missing = [
        t
        for t in ("aapt", "zipalign", "apksigner", "dalvik-exchange", "javac", "keytool")
        if not shutil.which(t)
    ]
    if not ANDROID_JAR.is_file():
        missing.append(f"{ANDROID_JAR} (libandroid-23-java)")
    return missing




def _dex_class_names(dex: bytes) -> list[str]:
    """Class names defined in a classes.dex (header, string_ids, type_ids, class_defs)."""
    assert dex[:4] == b"dex\n", dex[:8]
    string_ids_off = struct.unpack_from("<I", dex, 0x3C)[0]
    type_ids_off = struct.unpack_from("<I", dex, 0x44)[0]
    class_defs_size, class_defs_off = struct.unpack_from("<II", dex, 0x60)

    def string(idx: int) -> str:
        off = struct.unpack_from("<I", dex, string_ids_off + 4 * idx)[0]
        while dex[off] & 0x80:  # skip the ULEB128 length
            off += 1
        end = dex.index(b"\0", off + 1)
        return dex[off + 1 : end].decode("utf-8", "replace")

    names = []
    for i in range(class_defs_size):
        type_idx = struct.unpack_from("<I", dex, class_defs_off + 32 * i)[0]
        descriptor = string(struct.unpack_from("<I", dex, type_ids_off + 4 * type_idx)[0])
        names.append(descriptor[1:-1].replace("/", "."))
    return names


def test_copy_model_rejects_a_model_without_sidecar(tmp_path):
    (tmp_path / "lonely.tflite").write_bytes(b"TFL3")
    r = subprocess.run(
        [
            str(DEMO / "tools" / "copy_model.sh"),
            str(tmp_path / "lonely.tflite"),
            "--assets",
            str(tmp_path / "a"),
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2
    assert "lonely.labels.txt" in r.stderr and "ser-bnn export" in r.stderr
    assert not (tmp_path / "a").exists()


def test_debian_apk_build(tmp_path, emodb_dir):
    require_system(_missing_tools(), "sudo bash android_demo/tools/install_debian_deps.sh")
    assets = tmp_path / "assets"
    sample = emodb_dir / "wav" / "03a01Fa.wav"
    copied = subprocess.run(  # no model given: the bundled one
        [
            str(DEMO / "tools" / "copy_model.sh"),
            "--sample",
            str(sample),
            "--assets",
            str(assets),
        ],
        capture_output=True,
        text=True,
    )
    assert copied.returncode == 0, copied.stderr
    assert sorted(p.name for p in assets.iterdir()) == [
        "model.json",
        "model.labels.txt",
        "model.tflite",
        "sample.wav",
    ]

    out = tmp_path / "out"
    built = subprocess.run(
        [str(DEMO / "tools" / "build_apk_debian.sh"), "--out", str(out), "--assets", str(assets)],
        capture_output=True,
        text=True,
        timeout=1800,  # the build takes minutes when the machine is busy (run under nice with training jobs)
    )
    assert built.returncode == 0, built.stdout + built.stderr
    apk = out / "ser-bnn-demo-debug.apk"
    assert built.stdout.strip().splitlines()[-1] == str(apk)

    badging = subprocess.run(
        ["aapt", "dump", "badging", str(apk)], capture_output=True, text=True, check=True
    ).stdout
    assert "package: name='org.serbnn.demo' versionCode='1' versionName='0.1.0'" in badging
    assert "launchable-activity: name='org.serbnn.demo.MainActivity'" in badging
    assert "uses-permission: name='android.permission.RECORD_AUDIO'" in badging
    assert "sdkVersion:'23'" in badging and "targetSdkVersion:'23'" in badging
    assert "application-label:'SER-BNN Emotion'" in badging

    verify = subprocess.run(["apksigner", "verify", "--verbose", str(apk)], capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "Verified using v2 scheme (APK Signature Scheme v2): true" in verify.stdout

    with zipfile.ZipFile(apk) as z:
        model = z.getinfo("assets/model.tflite")
        assert model.compress_type == zipfile.ZIP_STORED  # memory-mappable
        with open(apk, "rb") as f:  # data offset = local header + name + extra
            f.seek(model.header_offset + 26)
            name_len, extra_len = struct.unpack("<HH", f.read(4))
        assert (model.header_offset + 30 + name_len + extra_len) % 4 == 0  # zipalign -p 4
        assert z.read("assets/model.tflite") == (BUNDLED / "bcrnn-emodb.tflite").read_bytes()
        labels = (BUNDLED / "bcrnn-emodb.labels.txt").read_text().split()
        assert z.read("assets/model.labels.txt").decode().split() == labels
        sidecar = json.loads((BUNDLED / "bcrnn-emodb.json").read_text())
        assert json.loads(z.read("assets/model.json")) == sidecar
        assert z.read("assets/sample.wav") == sample.read_bytes()
        classes = _dex_class_names(z.read("classes.dex"))
    for needed in (
        "org.serbnn.demo.MainActivity",
        "org.serbnn.demo.LceClassifier",
        "org.serbnn.demo.MicRecorder",
        "org.serbnn.core.WavReader",
        "org.serbnn.core.LiveWindower",
        "org.serbnn.core.LiveMode",
        "org.serbnn.core.FileClassification",
        "org.serbnn.core.Classifier",
        "org.serbnn.core.SpeakerStats",
        "org.serbnn.core.SpeakerStream",
        "org.serbnn.core.SpeakerProfile",
        "org.serbnn.core.ProfileStore",
        "org.serbnn.core.TensorRoles",
    ):
        assert needed in classes, classes
    assert not [c for c in classes if c.startswith("org.tensorflow")], classes
    assert not [c for c in classes if c.startswith("org.json")], classes
