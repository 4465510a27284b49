# The dvx engine. Needs privileges for loop devices, btrfs and bind mounts (see docker-compose.yml).
# python3: the runtime of Python (vSDK) plugins (standard library only).
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends openssh-client rsync btrfs-progs psmisc procps util-linux expect redis-server python3 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/dvx
COPY package.json package-lock.json ./
# The lint tools are a local package (see CONTRIBUTING.md, Lint): npm ci needs its package.json.
COPY tools/lint/package.json tools/lint/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && touch dist/.build-stamp
ENV DVX_DATA_DIR=/var/lib/dvx DVX_LISTEN=0.0.0.0:7433
EXPOSE 7433
ENTRYPOINT ["node", "bin/dvx.js"]
CMD ["engine", "start"]
