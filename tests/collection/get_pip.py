# -*- coding: utf-8 -*-
# Copyright: luban-ci contributors
# Apache License 2.0 (see LICENSE)
"""Stand-in for the pip bootstrap script ansible-test downloads from ci-files.testing.ansible.com.

Build machines reach PyPI but not that host.  ansible-test runs its bootstrap script as
``python get_pip.py [pip install options] pip==X.Y`` inside a fresh virtual environment; this one
does the same job with what every CPython carries: ``ensurepip`` for a first pip, then that pip
installs the exact requested packages from the configured index (PyPI).
"""

import subprocess
import sys

# get-pip.py's own switches; without them nothing but the named packages is installed anyway.
OWN_OPTIONS = ("--no-setuptools", "--no-wheel")

# In a child process: ensurepip clears the pip configuration (and with it the index and CA
# settings) from the environment of the process that runs it.
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
arguments = [arg for arg in sys.argv[1:] if arg not in OWN_OPTIONS]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install"] + arguments))
