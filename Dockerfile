# syntax=docker/dockerfile:1
#
# One image for every esign process; the command names the process:
#
#   docker run IMAGE oss | css | pdfservice | cron | tsa | migrate up | cert import … | health URL
#
# Build (the same source and arguments give the same binary: -trimpath,
# no build id, no timestamps):
#
#   docker build -t esign:$(git describe --tags --always) \
#     --build-arg VERSION=$(git describe --tags --always) \
#     --build-arg COMMIT=$(git rev-parse HEAD) \
#     --build-arg SOURCE=$(git remote get-url origin) .
#
# The final stage is distroless "static" (CA certificates, tzdata, /etc/passwd
# with the non-root user 65532, no shell, no package manager). It runs with a
# read-only root filesystem; the writable paths are volumes:
#   /var/lib/esign  data_dir: documents (shared by every oss and cron replica),
#                   the development PKI and TSA serials (esign tsa)
#   /tmp            temporary files of the seal job (oss)
# docs/operations.md ("Container image") has the details; the lint rules
# this file keeps are checked by deploy/test (TestDockerfile).

ARG GO_IMAGE=golang:1.26.8-bookworm
ARG BASE_IMAGE=gcr.io/distroless/static-debian12:nonroot

FROM ${GO_IMAGE} AS build
WORKDIR /src
# The default build is static, without cgo. PKCS#11 (a bank's HSM) needs
# cgo: build the variant with
#   --build-arg CGO_ENABLED=1 --build-arg BASE_IMAGE=gcr.io/distroless/base-debian12:nonroot
# (glibc, which the vendor's PKCS#11 library needs; mount the library into
# the container and name it in pkcs11.module). docs/key-custody.md.
ARG CGO_ENABLED=0
ENV CGO_ENABLED=${CGO_ENABLED} GOTOOLCHAIN=local
COPY go.mod go.sum ./
RUN go mod download && go mod verify
COPY cmd ./cmd
COPY internal ./internal
ARG VERSION=dev
ARG COMMIT=
RUN go build -trimpath -buildvcs=false \
      -ldflags="-s -w -buildid= -X esign/internal/cli.version=${VERSION} -X esign/internal/cli.commit=${COMMIT}" \
      -o /out/esign ./cmd/esign \
 && mkdir -p /out/var/lib/esign /out/tmp \
 && chmod 1777 /out/tmp

FROM ${BASE_IMAGE}
ARG VERSION=dev
ARG COMMIT=
ARG SOURCE=
LABEL org.opencontainers.image.title="esign" \
      org.opencontainers.image.description="esign electronic-signature platform: oss, css, pdfservice, cron, tsa and the tools, one binary" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}" \
      org.opencontainers.image.source="${SOURCE}"
COPY --from=build --chown=65532:65532 /out/var/lib/esign /var/lib/esign
COPY --from=build /out/tmp /tmp
COPY --from=build /out/esign /usr/local/bin/esign
ENV ESIGN_DATA_DIR=/var/lib/esign \
    ESIGN_LOG_FORMAT=json
USER 65532:65532
WORKDIR /var/lib/esign
VOLUME ["/var/lib/esign", "/tmp"]
# Documentation only: the default listen.* ports (docs/operations.md).
EXPOSE 10180 10181 10182 10183 10184 10185 10186 10187 10188 10189
ENTRYPOINT ["/usr/local/bin/esign"]
CMD ["help"]
