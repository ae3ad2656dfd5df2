"""Exit 0 when the current kubeconfig reaches a Kubernetes API server, 1 otherwise (with why)."""

import sys

from kubernetes import client, config


def main() -> int:
    try:
        config.load_kube_config()
    except Exception as exc:  # no kubeconfig, no current context, unreadable file
        print(f"no usable kubeconfig: {exc}", file=sys.stderr)
        return 1
    try:
        version = client.VersionApi().get_code(_request_timeout=5)
    except Exception as exc:  # DNS, refused, TLS, timeout, 401
        print(f"kubeconfig found but the API server did not answer: {exc}", file=sys.stderr)
        return 1
    print(f"cluster reachable: Kubernetes {version.git_version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
