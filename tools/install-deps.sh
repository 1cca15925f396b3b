#!/bin/sh
# Installs what echoharness needs from Debian/Ubuntu packages, and nothing when all of it is
# already there (idempotent: no apt-get call at all in that case). Uses sudo when not root.
set -eu

pkgs="build-essential cmake ninja-build pkg-config check clang afl++ zip unzip jq socat ncat xinetd liburing-dev"

missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    echo "install-deps: all present ($pkgs)"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=sudo
    else
        echo "install-deps: need root or sudo to install:$missing" >&2
        exit 2
    fi
else
    SUDO=
fi

echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# A policy-rc.d refusal keeps packages such as xinetd from starting system services here;
# the tests start their own instances on loopback.
$SUDO sh -c 'if [ ! -e /usr/sbin/policy-rc.d ]; then printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && touch /tmp/.eh-policy-rc; fi'
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
$SUDO sh -c 'if [ -e /tmp/.eh-policy-rc ]; then rm -f /usr/sbin/policy-rc.d /tmp/.eh-policy-rc; fi'
echo "install-deps: done"
