#!/usr/bin/env bash
# The buildpacks tools (tools/cnb: lifecycle, launcher, pack, crane, registry and the lifecycle
# tarball), built once by scripts/gotool.sh. Prints their directory:
#   bin/{pack,crane,registry,lifecycle,launcher}   lifecycle-<version>.tgz   versions.env
set -euo pipefail
exec "$(cd "$(dirname "$0")" && pwd)/gotool.sh" cnb
