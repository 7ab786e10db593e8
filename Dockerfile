# syntax=docker/dockerfile:1
# Build a static flagstream binary, then run it as a non-root user on a
# minimal base. .ci/run builds the binary with the same flags.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/flagstream ./cmd/flagstream

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/flagstream /usr/local/bin/flagstream
USER nonroot:nonroot
# The admin listener (/metrics, /healthz, /readyz); the config must set
# http.listen to 0.0.0.0:9464 for it to be reachable from outside.
EXPOSE 9464
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/flagstream", "healthcheck", "--url", "http://127.0.0.1:9464/healthz"]
ENTRYPOINT ["/usr/local/bin/flagstream"]
CMD ["run", "--config", "/etc/flagstream/config.yaml"]
