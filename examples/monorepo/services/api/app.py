"""The api service (a placeholder: it answers GET / with its name)."""

from common.http import serve

if __name__ == "__main__":
    serve("api")
