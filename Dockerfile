# keytrap in a container: scan a repository mounted at /src.
#
#   docker build -t keytrap .
#   docker run --rm -v "$PWD:/src:ro" keytrap scan /src --history
#
# The mounted repository is owned by another user than the container's, which git refuses
# ("dubious ownership"). /src is declared safe through git's environment configuration
# (GIT_CONFIG_COUNT/KEY/VALUE), never by writing to the scanned repository or its .git/config.
FROM python:3.12-slim

RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/*

COPY . /opt/keytrap-src
RUN python -I -m pip install --no-cache-dir /opt/keytrap-src && rm -rf /opt/keytrap-src

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin keytrap

ENV GIT_CONFIG_COUNT=1 \
    GIT_CONFIG_KEY_0=safe.directory \
    GIT_CONFIG_VALUE_0=/src \
    PYTHONDONTWRITEBYTECODE=1 \
    NO_COLOR=1

USER keytrap
WORKDIR /src
ENTRYPOINT ["keytrap"]
CMD ["scan", "/src"]
