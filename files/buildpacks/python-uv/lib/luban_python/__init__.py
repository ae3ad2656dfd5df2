"""The luban/python-uv Cloud Native Buildpack: Python apps built with uv."""
