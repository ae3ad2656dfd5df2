# Argo Workflows: workflow-controller and argoexec, from a copy of the published module with
# workflow/executor/osspecific/signal_linux.go restored (upstream it is a symlink to its darwin
# twin; module zips drop symlinks, so the executor does not compile from the zip).
recipe() {
  local v; v=$(pinned github.com/argoproj/argo-workflows/v4)
  module_source github.com/argoproj/argo-workflows/v4 "$v" src
  cp src/workflow/executor/osspecific/signal_darwin.go src/workflow/executor/osspecific/signal_linux.go
  local stamp="-X github.com/argoproj/argo-workflows/v4.version=$v -X github.com/argoproj/argo-workflows/v4.gitTreeState=clean"
  go_build workflow-controller github.com/argoproj/argo-workflows/v4/cmd/workflow-controller $stamp
  go_build argoexec github.com/argoproj/argo-workflows/v4/cmd/argoexec $stamp
}
