# The sview CLI (aggregator, public API, migrations, demo) in a small image.
#   docker build -t sview .
#   docker run --rm -e SVIEW_DATABASE_URL=... sview migrate up
# The Grafana plugin is not in it: `go tool mage distLinux` (or `build` for every platform)
# builds it into ./dist, which docker-compose.yml mounts into Grafana.

FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/sview ./cmd/sview

FROM debian:12.8-slim
# curl serves the compose health checks; ca-certificates TLS to PostgreSQL and Redis.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin sview
COPY --from=build /out/sview /usr/local/bin/sview
USER sview
ENTRYPOINT ["/usr/local/bin/sview"]
CMD ["help"]
