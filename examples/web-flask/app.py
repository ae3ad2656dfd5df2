"""A tiny Flask app: GET / says who serves it, so tests can check the run user."""

import os

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/")
def index():
    return jsonify(app="web-flask", message="hello from luban-ci", uid=os.getuid(), gid=os.getgid())
