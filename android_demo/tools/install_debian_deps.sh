#!/usr/bin/env bash
# Install what the Android demo's tests use, from Debian's package registry, non-interactively:
#   - JUnit 4 + Hamcrest for the core's unit tests (tests/test_android_core.py): junit4, libhamcrest-java,
#     and org.json (part of Android; on the host libandroid-json-java, the same AOSP code)
#   - the Gradle-free APK build (tests/test_android_apk.py): aapt, zipalign, apksigner from bookworm,
#     plus the API 23 android.jar (libandroid-23-java) and dx (dalvik-exchange), which bookworm no longer
#     ships: they are fetched from Debian bullseye with a private apt source list (the system's sources
#     are not changed) and installed with apt, which takes their dependencies from bookworm.
# Needs root. By default never fails (prints warnings; the tests then skip or report what is missing);
# pass --strict to exit non-zero when something could not be installed.
set -uo pipefail

STRICT=0
[[ "${1:-}" == "--strict" ]] && STRICT=1
export DEBIAN_FRONTEND=noninteractive
status=0
warn() { echo "install_debian_deps.sh: WARNING: $*" >&2; status=1; }

if [[ $(id -u) -ne 0 ]]; then
  warn "must run as root"
  [[ $STRICT -eq 1 ]] && exit 1 || exit 0
fi

apt-get update -qq || warn "apt-get update failed"
apt-get install -y -qq --no-install-recommends default-jdk-headless junit4 libhamcrest-java libandroid-json-java \
  || warn "could not install the JDK / junit4 / libhamcrest-java / libandroid-json-java"
apt-get install -y -qq --no-install-recommends aapt zipalign apksigner \
  || warn "could not install aapt / zipalign / apksigner"

if [[ -f /usr/lib/android-sdk/platforms/android-23/android.jar ]] && command -v dalvik-exchange >/dev/null; then
  echo "install_debian_deps.sh: android.jar (API 23) and dx already installed"
else
  TMP="$(mktemp -d)"
  mkdir -p "$TMP/lists/partial" "$TMP/archives/partial"
  # Use the Debian mirror this machine is already configured with (first URI of its main archive).
  MIRROR="$(grep -h -m1 -E '^URIs:' /etc/apt/sources.list.d/debian.sources 2>/dev/null | awk '{print $2}')"
  [[ -n "$MIRROR" ]] || MIRROR="$(grep -h -m1 -E '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}')"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR bullseye main" > "$TMP/sources.list"
  APT_BULLSEYE=(-o Dir::Etc::SourceList="$TMP/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o Dir::State::Lists="$TMP/lists" -o Dir::Cache::Archives="$TMP/archives" -o APT::Sandbox::User=root)
  if apt-get "${APT_BULLSEYE[@]}" update -qq \
    && (cd "$TMP" && apt-get "${APT_BULLSEYE[@]}" download libandroid-23-java dalvik-exchange); then
    apt-get install -y -qq --no-install-recommends "$TMP"/libandroid-23-java_*.deb "$TMP"/dalvik-exchange_*.deb \
      || warn "could not install libandroid-23-java / dalvik-exchange"
  else
    warn "could not fetch libandroid-23-java / dalvik-exchange from Debian bullseye"
  fi
  rm -rf "$TMP"
fi

[[ $STRICT -eq 1 ]] && exit $status
exit 0
