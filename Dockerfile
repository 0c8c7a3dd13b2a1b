# syntax=docker/dockerfile:1
#
# The classify HTTP server (and the classify command line) in a minimal,
# non-root image. The production models are embedded in the binaries, so the
# image needs no volume.
#
#   docker build -t classify .
#   docker run --rm -p 8000:8000 -p 8001:8001 -e MPS_MODEL_TYPE=random_forest classify
#
# 8000 is HTTP (the old API, the Open Inference Protocol's REST side, docs,
# metrics); 8001 is gRPC (the Open Inference Protocol, grpc.health.v1).
#
# deploy/dockerfile_test.go builds the binaries the way the RUN line below
# does, from the files the COPY lines below copy, and checks that the server
# is static, starts and answers /health.

# ---- build ----------------------------------------------------------------
FROM golang:1.26 AS build
WORKDIR /src
# Dependencies first: this layer is reused until a go.mod or go.sum changes.
# The commands are a module of their own (cmd/go.mod) that builds against the
# library, classifyhttp and classifygrpc beside it (its replace directives); GOWORK=off
# because the workspace file (go.work) also names the examples, which the
# image leaves out.
COPY go.mod ./
COPY classifyhttp/go.mod classifyhttp/
COPY classifygrpc/go.mod classifygrpc/
COPY cmd/go.mod cmd/go.sum cmd/
ENV GOWORK=off
RUN go -C cmd mod download
COPY *.go ./
COPY internal/ internal/
COPY rollout/ rollout/
COPY treeviz/ treeviz/
COPY classifyhttp/ classifyhttp/
COPY classifygrpc/ classifygrpc/
COPY models/ models/
COPY cmd/ cmd/
RUN CGO_ENABLED=0 go -C cmd build -trimpath -ldflags="-s -w" -o /out/serve ./serve && \
    CGO_ENABLED=0 go -C cmd build -trimpath -ldflags="-s -w" -o /out/classify ./classify

# ---- run ------------------------------------------------------------------
# Static binaries need no libc: distroless/static has CA certificates, tzdata
# and a nonroot user (65532) and nothing else, not even a shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/serve /out/classify /
USER 65532:65532
ENV MPS_API_HOST=0.0.0.0 MPS_API_PORT=8000 MPS_GRPC_PORT=8001
EXPOSE 8000 8001
# No shell or curl in the image: the server checks itself, GETting
# http://127.0.0.1:$MPS_API_PORT/health and exiting 0 (healthy) or 1.
HEALTHCHECK --interval=30s --timeout=3s --start-period=5s --retries=3 CMD ["/serve", "-healthcheck"]
ENTRYPOINT ["/serve"]
