"""luban-step: the small tool every luban-ci pipeline step runs (checkout, detect, digest, deploy, status,
supersede)."""

__version__ = "0.1.0"
