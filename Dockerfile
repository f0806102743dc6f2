# The logspout appliance: one static executable (every stage, by the name it is called by), a static
# busybox for supervisor.sh, the system's CA bundle (syslog over TLS), nothing else.
# Build it with scripts/image.sh, which compiles the static executables and lays out the context
# (no registry is needed: the image starts from scratch).
FROM scratch
COPY rootfs/ /
ENV PATH=/bin:/logspout \
    DOCKER_HOST=unix:///tmp/docker.sock \
    ROUTESPATH=/mnt/routes \
    STATE_DIR=/var/lib/logspout \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    PORT=8000
VOLUME ["/mnt/routes", "/var/lib/logspout"]
EXPOSE 8000
# `docker ps` shows (healthy) while httpd answers /health with 200 (every stage runs and route's bus
# answers), (unhealthy) after 3 failed checks in a row. `logspout health` gives up after 2 s itself; the
# first 30 s after a start do not count (the stages start in well under a second). See docs/http.md.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["/logspout/logspout", "health"]
ENTRYPOINT ["/bin/sh", "/logspout/supervisor.sh"]
