FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
# Dependencies first, hash-checked, in a layer that is rebuilt only when the lock changes.
# requirements/otel.txt is the runtime lock (requirements/run.txt, whose versions it is
# compiled against) plus the `otel` extra, so the image can trace when
# OTEL_EXPORTER_OTLP_ENDPOINT is set and carries no test or lint tools (those are in
# requirements/dev.txt). `make lock` / `make upgrade` regenerate all three locks together.
COPY requirements/otel.txt ./requirements/
RUN pip install --no-cache-dir --require-hashes -r requirements/otel.txt
# Then the project itself, with --no-deps: everything it needs is installed above.
COPY pyproject.toml README.md ./
COPY config ./config
COPY core ./core
COPY contracts ./contracts
COPY catalog ./catalog
COPY lifecycle ./lifecycle
COPY scorecards ./scorecards
COPY ops ./ops
RUN pip install --no-cache-dir --no-deps .
COPY . .
# staticfiles/ exists in the image, owned by appkeeper, so the named volume mounted there
# (shared with nginx) starts out writable for collectstatic.
RUN mkdir -p /app/staticfiles && useradd --create-home appkeeper && chown -R appkeeper /app
USER appkeeper
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000"]
