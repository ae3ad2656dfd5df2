# crd-schemas: writes the closed JSON Schemas the manifests tier checks Argo CD and HTTPRoute against.
recipe() { go_build crd-schemas .; }
