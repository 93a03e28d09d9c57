# syntax=docker/dockerfile:1
# ward in a container: the `ward` binary on distroless (glibc, no shell, no package
# manager), running as the image's non-root user, its data in the volume /var/lib/ward.
#
#   docker build --build-arg WARD_BUILD_COMMIT=$(git rev-parse --short HEAD) -t ward .
#   docker run -d --name ward -p 127.0.0.1:8420:8420 -v ward-data:/var/lib/ward ward
#   docker logs ward          # the first start prints the admin password once
#
# Settings are WARD_* variables (docs/deploy.md): WARD_DATABASE_URL, WARD_MASTER_KEY,
# WARD_SERVER_CONFIG, WARD_AUDIT_LOG, WARD_ADMIN_PASSWORD (first start only).

ARG RUST_VERSION=1.95.0

# ---- build: the toolchain rust-toolchain.toml pins --------------------------------------
FROM rust:${RUST_VERSION}-slim-bookworm AS build
ARG RUST_VERSION
# Use the image's toolchain; rust-toolchain.toml would also ask for rustfmt and clippy.
ENV RUSTUP_TOOLCHAIN=${RUST_VERSION} CARGO_TERM_COLOR=never
WORKDIR /src
COPY . .
# The build context has no .git (.dockerignore): the commit `ward --version` shows comes in here.
ARG WARD_BUILD_COMMIT=unknown
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    WARD_BUILD_COMMIT=${WARD_BUILD_COMMIT} cargo build --locked --release -p ward-cli --bin ward \
    && install -D -m 0755 target/release/ward /out/usr/local/bin/ward \
    && install -d -m 0700 -o 65532 -g 65532 /out/var/lib/ward

# ---- run: no shell needed; the health check is the ward binary itself -------------------
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/usr/local/bin/ward /usr/local/bin/ward
# The volume's mount point, owned by nonroot (65532): a new named volume starts as a copy of it.
COPY --from=build --chown=65532:65532 /out/var/lib/ward /var/lib/ward
ENV WARD_DATA_DIR=/var/lib/ward \
    WARD_SERVER=http://127.0.0.1:8420
USER nonroot:nonroot
VOLUME ["/var/lib/ward"]
EXPOSE 8420
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 \
    CMD ["/usr/local/bin/ward", "health"]
ENTRYPOINT ["/usr/local/bin/ward"]
CMD ["server", "--listen", "0.0.0.0:8420"]
