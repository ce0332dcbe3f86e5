# The service image: slim Python 3.11, a non-root user, Asia/Shanghai time zone data, the PostgreSQL client
# (pg_dump/pg_restore for `python -m bot backup`), and jieba's dictionary cache made at build time so a
# container answers /healthz sooner.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TZ=Asia/Shanghai \
    PROMETHEUS_MULTIPROC_DIR=/tmp/ycbot-metrics \
    YCBOT_SERVER_HOST=0.0.0.0 \
    YCBOT_SERVER_PORT=8080 \
    YCBOT_STORAGE_MEDIA_DIR=/data/media \
    YCBOT_LOGGING_FORMAT=json

RUN apt-get update \
    && apt-get install -y --no-install-recommends tzdata postgresql-client \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin ycbot \
    && install -d -o ycbot -g ycbot /data /data/media

WORKDIR /app
COPY pyproject.toml README.md config.example.toml ./
COPY bot ./bot
COPY handlers ./handlers
COPY knowledge ./knowledge
COPY scheduler ./scheduler
COPY storage ./storage
RUN pip install -e . && chown -R ycbot:ycbot /app

USER ycbot
# Load the knowledge base once: jieba writes its dictionary cache, which the service then reuses.
RUN python -c "from knowledge.answerer import load_knowledge_base; load_knowledge_base()"

EXPOSE 8080
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"
# The metrics folder is per container (one serve process each); emptied at every start.
CMD ["sh", "-c", "rm -rf \"$PROMETHEUS_MULTIPROC_DIR\" && mkdir -p \"$PROMETHEUS_MULTIPROC_DIR\" && exec python -m bot serve"]
