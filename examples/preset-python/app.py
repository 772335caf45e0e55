"""A tiny Flask app: GET / answers a greeting, GET /healthz answers "ok"."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def home():
    return "Olá do preset python!\n"


@app.get("/healthz")
def healthz():
    return "ok\n"
