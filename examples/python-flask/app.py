"""A tiny Flask app: GET / answers a greeting, GET /healthz answers "ok"."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def home():
    return "Olá, Multistage Build com Python e stowplan!\n"


@app.get("/healthz")
def healthz():
    return "ok\n"


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=5000)
