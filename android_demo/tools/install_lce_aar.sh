#!/usr/bin/env bash
# Install the LCE Lite AAR (downloaded from the assets of a larq/compute-engine GitHub release, or
# built with larq_compute_engine/tflite/java/build_lce_aar.sh) into the local Maven repository as
# org.larq:lce-lite:VERSION, where app/build.gradle finds it through mavenLocal().
#
# Usage: tools/install_lce_aar.sh path/to/lce-lite-vX.Y.Z.aar [VERSION]
#   VERSION defaults to lceLiteVersion in android_demo/gradle.properties (keep them equal).
# Uses `mvn install:install-file` when Maven is installed, else writes the same files into
# ${MAVEN_REPO:-~/.m2/repository} directly.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AAR="${1:-}"
[[ -n "$AAR" && -f "$AAR" ]] || { echo "usage: install_lce_aar.sh path/to/lce-lite.aar [VERSION]" >&2; exit 2; }
unzip -l "$AAR" 2>/dev/null | grep -q 'classes.jar' || { echo "install_lce_aar.sh: $AAR is not an AAR (no classes.jar)" >&2; exit 2; }
VERSION="${2:-$(sed -n 's/^lceLiteVersion=//p' "$ROOT/gradle.properties")}"
[[ -n "$VERSION" ]] || { echo "install_lce_aar.sh: no version given and none in gradle.properties" >&2; exit 2; }

if command -v mvn >/dev/null 2>&1; then
  mvn -q install:install-file -Dfile="$AAR" -DgroupId=org.larq -DartifactId=lce-lite \
    -Dversion="$VERSION" -Dpackaging=aar
else
  DEST="${MAVEN_REPO:-$HOME/.m2/repository}/org/larq/lce-lite/$VERSION"
  mkdir -p "$DEST"
  cp "$AAR" "$DEST/lce-lite-$VERSION.aar"
  cat > "$DEST/lce-lite-$VERSION.pom" <<POM
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>org.larq</groupId>
  <artifactId>lce-lite</artifactId>
  <version>$VERSION</version>
  <packaging>aar</packaging>
</project>
POM
fi
echo "installed org.larq:lce-lite:$VERSION"
