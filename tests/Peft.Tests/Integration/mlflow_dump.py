#!/usr/bin/env python3
"""Reads one experiment back through MLflow's own client and prints it as JSON (for the integration tests).

    PYTHONPATH=../shared/mlflow/python /usr/bin/python3 mlflow_dump.py TRACKING_URI EXPERIMENT_NAME

TRACKING_URI is a server (http://127.0.0.1:PORT: the REST API) or an mlruns folder (file:///...: MLflow's FileStore).
Output: {"experiment": {...}, "runs": [{"info": {...}, "params": {...}, "tags": {...},
"metrics": {key: [[step, timestamp, value], ...]}, "artifacts": {path: size}}]}, runs in run_id order, every run
of the experiment (active and deleted), every metric's full history, every artifact file (recursively).
"""
import json
import math
import sys

from mlflow.entities import ViewType
from mlflow.tracking import MlflowClient


def artifacts(client, run_id, path=None):
    files = {}
    for entry in client.list_artifacts(run_id, path):
        if entry.is_dir:
            files.update(artifacts(client, run_id, entry.path))
        else:
            files[entry.path] = entry.file_size
    return files


def main():
    uri, name = sys.argv[1], sys.argv[2]
    client = MlflowClient(tracking_uri=uri)
    # Listing every experiment (not get_experiment_by_name, whose filter string MLflow cannot parse for every name)
    # also proves that each meta.yaml of an mlruns folder is readable.
    experiments = client.search_experiments(view_type=ViewType.ALL, max_results=50000)
    experiment = next((e for e in experiments if e.name == name), None)
    if experiment is None:
        sys.exit(f"no experiment named {name!r} at {uri}; experiments: {[e.name for e in experiments]!r}")
    runs, token = [], None
    while True:
        page = client.search_runs([experiment.experiment_id], run_view_type=ViewType.ALL, max_results=1000, page_token=token)
        runs.extend(page)
        token = page.token
        if not token:
            break
    out = []
    for run in sorted(runs, key=lambda r: r.info.run_id):
        info = run.info
        metrics = {}
        for key in sorted(run.data.metrics):
            history = client.get_metric_history(info.run_id, key)
            # JSON has no NaN/Infinity: non-finite values are written as Python's repr ('nan', 'inf', '-inf')
            metrics[key] = [[m.step, m.timestamp, m.value if math.isfinite(m.value) else repr(m.value)] for m in history]
        out.append({
            "info": {"run_id": info.run_id, "run_name": info.run_name, "status": info.status,
                     "start_time": info.start_time, "end_time": info.end_time,
                     "lifecycle_stage": info.lifecycle_stage, "user_id": info.user_id,
                     "artifact_uri": info.artifact_uri},
            "params": dict(run.data.params), "tags": dict(run.data.tags), "metrics": metrics,
            "artifacts": artifacts(client, info.run_id),
        })
    print(json.dumps({"experiment": {"experiment_id": experiment.experiment_id, "name": experiment.name,
                                     "lifecycle_stage": experiment.lifecycle_stage, "tags": dict(experiment.tags)},
                      "runs": out}))


if __name__ == "__main__":
    main()
