"""Copies of shared modules of the luban.ci collection (plugins/module_utils), written by
scripts/vendor.py (make vendor) and checked byte for byte by the tests: edit the originals."""
