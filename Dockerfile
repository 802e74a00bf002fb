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
# As services/cli/node-flags.ts: a smaller V8 young generation (about 20-30 MB less per
# process) and optimisation after an eighth of V8's default interrupt budget.
ENTRYPOINT ["node", "--max-semi-space-size=4", "--interrupt-budget=8448", "bin/servofleet.js"]
CMD ["--help"]
