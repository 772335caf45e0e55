# changed: src/app.test.js src/app.js
# `COPY --exclude` read back from a Dockerfile: the excluded test file
# alone would rebuild nothing, but src/app.js is copied and rebuilds.
FROM node:20-bookworm-slim
WORKDIR /app
COPY --exclude=*.test.js src/ ./src/
RUN node src/app.js
