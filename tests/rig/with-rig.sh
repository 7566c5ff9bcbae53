#!/usr/bin/env bash
# Runs a command inside Sori's headless test rig, so tests use real parts on a
# machine that has none: a private PulseAudio with a virtual microphone and
# speaker (cpal reaches it through ALSA's pulse plugin), a private D-Bus session
# with an unlocked gnome-keyring (Secret Service), a kernel session keyring
# (keyutils), and an Xvfb display. Nothing of the user's own session is touched.
#
#   tests/rig/with-rig.sh cargo test
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [ "${SORI_RIG_LAYER:-}" = "" ]; then
  # Outer layer: an X display, a D-Bus session and a session keyring, then ourselves again.
  export SORI_RIG_LAYER=inner
  exec xvfb-run -a -s "-screen 0 1280x900x24" dbus-run-session -- keyctl session - bash "$0" "$@"
fi

rig=$(mktemp -d /tmp/sori-rig.XXXXXX)
export XDG_RUNTIME_DIR="$rig/run" XDG_DATA_HOME="$rig/data" XDG_CONFIG_HOME="$rig/config"
mkdir -p -m 700 "$XDG_RUNTIME_DIR" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME"
export PULSE_SERVER="unix:$XDG_RUNTIME_DIR/pulse/native"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$rig"
}
trap cleanup EXIT

# The keychain: gnome-keyring's Secret Service on this session bus, its login
# keyring created and unlocked with a throwaway password.
echo -n sori-rig-password | gnome-keyring-daemon --foreground --unlock --components=secrets >"$rig/keyring.log" 2>&1 &
pids+=($!)

# The sound: PulseAudio with the null sinks of test.pa. A desktop always has an
# auth cookie, and the pure-Rust client in cpal's PulseAudio host needs one.
mkdir -p "$XDG_CONFIG_HOME/pulse"
head -c 256 /dev/urandom >"$XDG_CONFIG_HOME/pulse/cookie"
export PULSE_COOKIE="$XDG_CONFIG_HOME/pulse/cookie"
pulseaudio -n -F "$here/test.pa" --daemonize=no --exit-idle-time=-1 --log-target=file:"$rig/pulse.log" 2>/dev/null &
pids+=($!)
for _ in $(seq 100); do pactl info >/dev/null 2>&1 && break; sleep 0.1; done
pactl info >/dev/null 2>&1 || { echo "rig: PulseAudio did not start:"; cat "$rig/pulse.log"; exit 1; }
# An idle null sink renders in blocks of up to 2 s; one low-latency client on
# each keeps them rendering in small steps.
pacat --playback -d micsink --latency-msec=10 --raw --format=s16le --rate=16000 --channels=1 /dev/zero &
pids+=($!)
pacat --playback -d speaker --latency-msec=10 --raw --format=s16le --rate=48000 --channels=2 /dev/zero &
pids+=($!)
for _ in $(seq 50); do
  busctl --user status org.freedesktop.secrets >/dev/null 2>&1 && break
  dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q true && break
  sleep 0.1
done
sleep 2.5

export SORI_RIG=1
set +e
"$@"
status=$?
set -e
exit $status
