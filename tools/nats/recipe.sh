# nats-server: the JetStream server behind Argo Events' EventBus.
recipe() { go_build nats-server github.com/nats-io/nats-server/v2; }
