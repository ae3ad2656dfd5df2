# Argo Events: controller, EventSource and Sensor pods all run this one binary.
recipe() {
  go_build argo-events github.com/argoproj/argo-events/cmd \
    "-X github.com/argoproj/argo-events.version=$(pinned github.com/argoproj/argo-events)"
}
