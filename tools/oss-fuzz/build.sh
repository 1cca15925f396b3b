#!/bin/bash -eu
# OSS-Fuzz entry point: the build logic lives in the project, in .clusterfuzzlite/build.sh,
# shared with ClusterFuzzLite and tested by CTest (tests/ossfuzz/contract.sh).
exec bash -eu "$SRC/echoharness/.clusterfuzzlite/build.sh"
