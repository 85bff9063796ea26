# The SkyDeck API server as a container: the self-contained bundle (dist/server.js) on plain Node.
# Build the bundle first, then the image:
#   npm ci && npm run build && docker build -t skydeck .
# A container listens on all its addresses, so the server needs accounts before it starts (see docs/deploy.md):
#   docker run --rm -i -v skydeck-data:/data skydeck users add admin --role admin --password-stdin <<< 'a long password'
#   docker run -d --init --name skydeck -p 46590:46590 -v skydeck-data:/data skydeck
ARG NODE_IMAGE=node:20-bookworm-slim
FROM ${NODE_IMAGE}

# Jobs of the local infra backend run under bash; the server itself needs nothing but Node.
COPY dist/server.js dist/cli.js dist/cli-*.js /opt/skydeck/
RUN mkdir -p /data && chown 1000:1000 /data

ENV SKYDECK_HOME=/data NODE_ENV=production
VOLUME /data
EXPOSE 46590
# The data (store, request logs, users, tokens, local token) belongs to an unprivileged user.
USER 1000:1000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:46590/api/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# `docker run IMAGE users|tokens ...` manages accounts; anything else is server flags.
ENTRYPOINT ["node", "/opt/skydeck/server.js"]
CMD ["--host", "0.0.0.0", "--port", "46590", "--data-dir", "/data/server"]
