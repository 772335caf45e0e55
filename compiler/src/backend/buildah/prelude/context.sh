if [[ $context == *[][?*\\]* ]]; then
  echo "${0##*/}: buildah would read the context path $context as a pattern" >&2
  exit 1
fi
# COPY and ADD read the context from inside it: with --contextdir, buildah resolves a
# symlink in the context within the context, never on the host. They honour the
# context's .dockerignore, as docker build does.
from_context=(--contextdir "$context")
if [[ -f $context/.dockerignore ]]; then
  from_context+=(--ignorefile "$context/.dockerignore")
fi
