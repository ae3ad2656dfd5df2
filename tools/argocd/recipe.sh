# Argo CD: one binary, dispatching on argv[0] (argocd-application-controller, argocd-repo-server,
# ...); common.version takes the version without its leading v.
recipe() {
  local v; v=$(pinned github.com/argoproj/argo-cd/v3)
  go_build argocd github.com/argoproj/argo-cd/v3/cmd "-X github.com/argoproj/argo-cd/v3/common.version=${v#v}"
}
