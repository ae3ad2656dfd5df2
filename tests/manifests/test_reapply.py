"""What the controllers write back must equal what the roles apply, or a second converge is never
a no-op. Argo Events' controller stores the EventSource spec from its Go types, whose booleans are
`omitempty`: a rendered `false` disappears on the first reconcile and every re-apply restores it
(found by Molecule's idempotence step on the test cluster)."""

from __future__ import annotations

from typing import Any

from conftest import one


def _false_values(node: Any, path: str = "") -> list[str]:
    if node is False:
        return [path]
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _false_values(v, "%s.%s" % (path, k))]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _false_values(v, "%s[%d]" % (path, i))]
    return []


def test_the_eventsource_renders_no_false_boolean_the_controller_would_drop(docs) -> None:
    spec = one(docs, "EventSource", "github").body["spec"]
    assert _false_values(spec["github"]) == []
