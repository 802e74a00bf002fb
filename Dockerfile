# One image for every servofleet service; the sub-command picks the service:
#   docker run servofleet device --link bus-a --config /app/config/compose-fleet.yaml
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY firmware-protocol ./firmware-protocol
COPY device-sim ./device-sim
COPY services ./services
COPY config ./config
# The services start from the bundle (no tsx loader thread: ~55 MB less per process).
RUN node bin/servofleet.js build && chown -R node:node .servofleet
ENV NODE_ENV=production LOG_LEVEL=info
USER node
# Smaller V8 young generation: about 20-30 MB less per process (services/cli/node-flags.ts).
ENTRYPOINT ["node", "--max-semi-space-size=4", "bin/servofleet.js"]
CMD ["--help"]
