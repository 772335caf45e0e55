if [[ $context == *[][?*\\]* ]]; then
  echo "${0##*/}: buildah would read the context path $context as a pattern" >&2
  exit 1
fi
# COPY and ADD honour the context's .dockerignore, as docker build does.
ignore=()
if [[ -f $context/.dockerignore ]]; then
  ignore=(--contextdir "$context" --ignorefile "$context/.dockerignore")
fi
