# kustomize: the `kustomize build` Argo CD's repo-server runs on kustomization directories.
recipe() {
  go_build kustomize sigs.k8s.io/kustomize/kustomize/v5 \
    "-X sigs.k8s.io/kustomize/api/provenance.version=$(pinned sigs.k8s.io/kustomize/kustomize/v5)
     -X sigs.k8s.io/kustomize/api/provenance.buildDate=1970-01-01T00:00:00Z"
}
