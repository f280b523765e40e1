#!/usr/bin/env bash
# Build a signed debug APK of the demo with Debian's Android tools only (no Gradle, no SDK manager):
# aapt, dx (dalvik-exchange), zipalign, apksigner, the API 23 android.jar, and a JDK.
#
# The TensorFlow Lite Interpreter classes come from compile-only stubs (tools/stubs) and org.json
# from android.jar (the device's): neither is dexed. No native library is packaged: the APK installs
# and runs its UI, but cannot run inference (it says so). A working app needs the Gradle build with
# the org.larq:lce-lite AAR.
#
# Usage: tools/build_apk_debian.sh [--out DIR] [--assets DIR]
#   --out DIR      output directory (default android_demo/out); the APK is DIR/ser-bnn-demo-debug.apk
#   --assets DIR   directory packaged as the APK's assets (default app/src/main/assets if it holds a
#                  model.tflite, else the bundled pretrained model copied by tools/copy_model.sh)
# Environment: ANDROID_JAR (default /usr/lib/android-sdk/platforms/android-23/android.jar),
#   DX (default dalvik-exchange on PATH). Exit status 3: a required tool is missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/out"
ASSETS=""
[[ -f "$ROOT/app/src/main/assets/model.tflite" ]] && ASSETS="$ROOT/app/src/main/assets"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) OUT="$2"; shift 2 ;;
    --assets) ASSETS="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "build_apk_debian.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

PACKAGE=org.serbnn.demo
MIN_SDK=23
TARGET_SDK=23 # the only android.jar Debian ships (libandroid-23-java)
VERSION_CODE=1
VERSION_NAME=0.1.0
ANDROID_JAR="${ANDROID_JAR:-/usr/lib/android-sdk/platforms/android-23/android.jar}"
DX="${DX:-$(command -v dalvik-exchange || true)}"

missing=()
for t in aapt zipalign apksigner javac keytool; do
  command -v "$t" >/dev/null 2>&1 || missing+=("$t")
done
[[ -n "$DX" && -x "$DX" ]] || missing+=("dx (dalvik-exchange)")
[[ -f "$ANDROID_JAR" ]] || missing+=("android.jar ($ANDROID_JAR, libandroid-23-java)")
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "build_apk_debian.sh: missing: ${missing[*]}" >&2
  echo "install with android_demo/tools/install_debian_deps.sh (see android_demo/README.md)" >&2
  exit 3
fi
if [[ -n "$ASSETS" && ! -d "$ASSETS" ]]; then
  echo "build_apk_debian.sh: no such assets directory: $ASSETS" >&2
  exit 2
fi

WORK="$OUT/build"
rm -rf "$WORK"
mkdir -p "$WORK/gen" "$WORK/stubs" "$WORK/classes" "$WORK/dex"

# 1. Manifest: Gradle takes the package from `namespace`; aapt needs it in the file.
sed "s|<manifest |<manifest package=\"$PACKAGE\" |" "$ROOT/app/src/main/AndroidManifest.xml" > "$WORK/AndroidManifest.xml"
AAPT_COMMON=(-f -M "$WORK/AndroidManifest.xml" -S "$ROOT/app/src/main/res" -I "$ANDROID_JAR"
  --min-sdk-version "$MIN_SDK" --target-sdk-version "$TARGET_SDK"
  --version-code "$VERSION_CODE" --version-name "$VERSION_NAME" --debug-mode)

# 2. R.java
aapt package "${AAPT_COMMON[@]}" -m -J "$WORK/gen"

# 3. Compile: stubs on the class path only, core + app + R into the dex input.
JAVAC=(javac -source 8 -target 8 -encoding UTF-8 -nowarn -Xlint:-options -bootclasspath "$ANDROID_JAR")
find "$ROOT/tools/stubs" -name '*.java' > "$WORK/stubs.txt"
"${JAVAC[@]}" -d "$WORK/stubs" @"$WORK/stubs.txt"
{ find "$ROOT/core/src/main/java" "$ROOT/app/src/main/java" "$WORK/gen" -name '*.java'; } > "$WORK/sources.txt"
"${JAVAC[@]}" -cp "$WORK/stubs" -d "$WORK/classes" @"$WORK/sources.txt"
if find "$WORK/classes" -path '*org/tensorflow*' | grep -q .; then
  echo "build_apk_debian.sh: TFLite stub classes leaked into the dex input" >&2
  exit 1
fi
if find "$WORK/classes" -path '*org/json*' | grep -q .; then
  echo "build_apk_debian.sh: org.json classes in the dex input (they are the device's, from android.jar)" >&2
  exit 1
fi

# 4. Dex
"$DX" --dex --min-sdk-version="$MIN_SDK" --output="$WORK/dex/classes.dex" "$WORK/classes"

# 5. Package resources (+ assets, .tflite stored uncompressed so it can be memory-mapped) and the dex.
if [[ -z "$ASSETS" ]]; then  # no model copied: package the bundled pretrained model
  ASSETS="$WORK/assets"
  "$ROOT/tools/copy_model.sh" --assets "$ASSETS" >/dev/null
fi
ASSET_ARGS=(-A "$ASSETS")
aapt package "${AAPT_COMMON[@]}" "${ASSET_ARGS[@]}" -0 tflite -F "$WORK/unsigned.apk"
(cd "$WORK/dex" && aapt add "$WORK/unsigned.apk" classes.dex >/dev/null)

# 6. Align, 7. sign with a debug key (created once per output directory).
zipalign -f -p 4 "$WORK/unsigned.apk" "$WORK/aligned.apk"
KS="$OUT/debug.keystore"
if [[ ! -f "$KS" ]]; then
  keytool -genkeypair -keystore "$KS" -storepass android -keypass android -alias androiddebugkey \
    -keyalg RSA -keysize 2048 -validity 10000 -dname "CN=Android Debug,O=Android,C=US" -noprompt >/dev/null 2>&1
fi
APK="$OUT/ser-bnn-demo-debug.apk"
apksigner sign --ks "$KS" --ks-pass pass:android --key-pass pass:android --ks-key-alias androiddebugkey \
  --out "$APK" "$WORK/aligned.apk"
apksigner verify "$APK"
echo "$APK"
