"""luban-ci example worker."""
