# changed: README.md docs/guide.md src/app.js
# The `.dockerignore` beside it (ignored.Dockerfile.dockerignore) keeps
# README.md and docs/ out of the context: only src/app.js reaches COPY . .
FROM node:20-bookworm-slim
WORKDIR /app
COPY package*.json ./
RUN npm ci
COPY . .
RUN npm run build
