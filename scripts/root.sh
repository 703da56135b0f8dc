# Sourced by scripts/try and scripts/test, which install Debian packages and run the lab:
# as root they go on; as another user they run themselves again through sudo (keeping the few
# settings they read: sudo's env_reset would drop them); with no sudo, they say so.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        return 0
    fi
    if ! command -v sudo >/dev/null 2>&1; then
        echo "$(basename "$1"): needs root, and there is no sudo here: run it as root" >&2
        exit 1
    fi
    kept=()
    for name in HABOT_LAB_DIR HABOT_LAB_ID HABOT_LAB_SSH_PORT PYTHON CI; do
        if [ -n "${!name+set}" ]; then
            kept+=("$name=${!name}")
        fi
    done
    exec sudo -- env "${kept[@]}" "$@"
}
