# Iceberg service image: the API and pages on port 8000, the bundled local model inside, data in /data.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    ICEBERG_DATA_DIR=/data LITELLM_LOCAL_MODEL_COST_MAP=True

RUN useradd --create-home --uid 10001 iceberg && mkdir /data && chown iceberg /data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY service ./service
COPY prompts ./prompts
COPY rubrics ./rubrics
COPY knowledge ./knowledge
COPY examples ./examples
# The editable install keeps prompts/, rubrics/ and knowledge/ beside the package, where the service reads them.
RUN pip install -e '.[local,postgres]'

USER iceberg
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"
CMD ["iceberg", "serve", "--host", "0.0.0.0", "--port", "8000"]
