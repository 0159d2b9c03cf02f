# The image of the migration Job (migrate-job.yaml): vottery-migrate with the
# migrations of its release embedded. Built from the repository's root:
#
#   docker build -f deploy/kubernetes/migrate.Dockerfile \
#       -t registry.example.com/vottery/identity-migrate:0.1.0 .
#
# Tag it with the same release as the app's image.
FROM docker.io/library/rust:1.94-slim-bookworm AS build
WORKDIR /src
COPY . .
# The checkout's `target` is a link to a cache outside the build context.
RUN rm -rf target .vottery \
    && cargo build --release --locked -p vottery-migrate

# glibc and nothing else: the tool speaks to PostgreSQL without TLS and
# needs no OpenSSL.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/vottery-migrate /usr/local/bin/vottery-migrate
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/vottery-migrate"]
