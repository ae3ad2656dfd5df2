# argo-validate: Argo Workflows and Argo Events both link an HDFS client that registers the same
# protobuf names; the registration conflict is ignored (the helper never touches HDFS).
recipe() { go_build argo-validate . "-X google.golang.org/protobuf/reflect/protoregistry.conflictPolicy=ignore"; }
