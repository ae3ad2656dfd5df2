# The lifecycle, launcher, pack, crane and the registry, and the lifecycle tarball that
# builder.toml's `[lifecycle] uri` points at. Tests and the local default use these because the
# build machines cannot download release assets; users install pack and let it fetch the
# lifecycle by version.
recipe() {
  local lifecycle pack crane registry
  lifecycle=$(pinned github.com/buildpacks/lifecycle); lifecycle=${lifecycle#v}
  pack=$(pinned github.com/buildpacks/pack); pack=${pack#v}
  crane=$(pinned github.com/google/go-containerregistry)
  registry=$(pinned github.com/distribution/distribution/v3)
  go_build lifecycle github.com/buildpacks/lifecycle/cmd/lifecycle \
    "-X github.com/buildpacks/lifecycle/cmd.Version=$lifecycle -X github.com/buildpacks/lifecycle/cmd.SCMRepository=github.com/buildpacks/lifecycle"
  go_build launcher github.com/buildpacks/lifecycle/cmd/launcher "-X github.com/buildpacks/lifecycle/cmd.Version=$lifecycle"
  go_build crane github.com/google/go-containerregistry/cmd/crane "-X github.com/google/go-containerregistry/cmd/crane/cmd.Version=$crane"
  go_build registry github.com/distribution/distribution/v3/cmd/registry "-X github.com/distribution/distribution/v3/version.version=$registry"
  go_build pack github.com/buildpacks/pack "-X github.com/buildpacks/pack/pkg/client.Version=$pack"

  # lifecycle.toml plus lifecycle/ with the binaries and the phase symlinks, the layout pack
  # expects for `[lifecycle] uri`. Fixed owner and mtime keep it reproducible.
  local stage=$out/stage phase
  mkdir -p "$stage/lifecycle"
  cp "$out/bin/lifecycle" "$out/bin/launcher" "$stage/lifecycle/"
  for phase in detector analyzer restorer builder exporter rebaser creator extender; do
    ln -s lifecycle "$stage/lifecycle/$phase"
  done
  go run -mod=readonly ./lifecycle-descriptor "$lifecycle" >"$stage/lifecycle.toml"
  tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner --mtime='@0' -czf \
    "$out/lifecycle-$lifecycle.tgz" lifecycle.toml lifecycle
  rm -rf "$stage"
  printf 'LIFECYCLE_VERSION=%s\nPACK_VERSION=%s\nCRANE_VERSION=%s\nREGISTRY_VERSION=%s\n' \
    "$lifecycle" "$pack" "$crane" "$registry" >"$out/versions.env"
}
