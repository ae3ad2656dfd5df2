"""The end-to-end tier: the real test cluster (make cluster), the host services
(scripts/cluster/services.sh) and luban-ci installed by its own playbooks (make test-e2e). A
missing cluster is an error here, never a skip: `make test-e2e` brings everything up first."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scenario  # noqa: E402


@pytest.fixture(scope="session")
def env(tmp_path_factory: pytest.TempPathFactory):
    opened = scenario.Env.open(tmp_path_factory.mktemp("e2e"))
    yield opened
    opened.close()
