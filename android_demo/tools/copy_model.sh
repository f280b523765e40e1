#!/usr/bin/env bash
# Copy what `ser-bnn export` wrote into the app's assets under the names the app reads:
#   MODEL.tflite -> model.tflite, MODEL.labels.txt -> model.labels.txt, MODEL.json -> model.json
# and optionally a WAV to classify from the app ("Bundled sample" button) -> sample.wav.
#
# Usage: tools/copy_model.sh [path/to/MODEL.tflite] [--sample file.wav] [--assets DIR]
#   (default MODEL: the bundled pretrained model, ser_bnn/pretrained/bcrnn-emodb.tflite, docs/MODEL_CARD.md;
#    default DIR: android_demo/app/src/main/assets, which git ignores: audio is never committed)
# Same as the Gradle task: ./gradlew :app:copyModel -PserModel=path/to/MODEL.tflite [-PserSample=file.wav]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ASSETS="$ROOT/app/src/main/assets"
MODEL="$ROOT/../ser_bnn/pretrained/bcrnn-emodb.tflite"
SAMPLE=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --sample) SAMPLE="$2"; shift 2 ;;
    --assets) ASSETS="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    -*) echo "copy_model.sh: unknown option $1" >&2; exit 2 ;;
    *) MODEL="$1"; shift ;;
  esac
done
fail() { echo "copy_model.sh: $*" >&2; exit 2; }
[[ -f "$MODEL" ]] || fail "no such model file: $MODEL"
[[ "$MODEL" == *.tflite ]] || fail "expected a .tflite file, got $MODEL"
BASE="${MODEL%.tflite}"
[[ -f "$BASE.labels.txt" || -f "$BASE.json" ]] || fail "neither $BASE.labels.txt nor $BASE.json exists (run ser-bnn export)"
[[ -z "$SAMPLE" || -f "$SAMPLE" ]] || fail "no such sample wav: $SAMPLE"

mkdir -p "$ASSETS"
rm -f "$ASSETS/model.tflite" "$ASSETS/model.labels.txt" "$ASSETS/model.json"
cp "$MODEL" "$ASSETS/model.tflite"
[[ -f "$BASE.labels.txt" ]] && cp "$BASE.labels.txt" "$ASSETS/model.labels.txt"
[[ -f "$BASE.json" ]] && cp "$BASE.json" "$ASSETS/model.json"
[[ -n "$SAMPLE" ]] && cp "$SAMPLE" "$ASSETS/sample.wav"
ls -l "$ASSETS"
