# buildx, for the benchmark's baseline only (docs/decisions/0501): run standalone
# (`buildx build ...`), never installed as a Docker CLI plugin.
recipe() {
  local v; v=$(pinned github.com/docker/buildx)
  go_build buildx github.com/docker/buildx/cmd/buildx "-X github.com/docker/buildx/version.Version=$v"
}
