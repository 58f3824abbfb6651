#!/bin/bash
# A Slurm job array running one experiment in shards: task i of N runs shard i/N (peft reads SLURM_ARRAY_TASK_ID,
# SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_COUNT; no --shard needed). Submit from the repository root:
#   sbatch experiments/slurm/peft-array.sh
# Change for your cluster: --array (number of shards, 0-based and contiguous), --cpus-per-task (at most a node's
# cores; peft uses them all for libtorch), --mem (~4 GB per task for ViT-B/16 features, more for larger backbones),
# --time, and the paths below (a folder every node sees, for the feature cache and an mlruns tracking folder;
# or an http(s):// MLflow server). Command-line options of sbatch override these lines (tests: --array=0-1).
#SBATCH --job-name=peft-coop-11
#SBATCH --array=0-7
#SBATCH --cpus-per-task=8
#SBATCH --mem=16G
#SBATCH --time=24:00:00
#SBATCH --requeue                       # preempted tasks resume where they stopped
#SBATCH --output=peft-%A_%a.out
set -euo pipefail
export PEFT_HOME="${PEFT_HOME:-/shared/peft}"                          # cache shared by all tasks
export MLFLOW_TRACKING_URI="${MLFLOW_TRACKING_URI:-/shared/mlruns}"    # or http://mlflow-server:5000
experiment="${PEFT_EXPERIMENT:-experiments/coop-11-datasets.json}"
cd "$SLURM_SUBMIT_DIR"
# PEFT_COMMAND: how to start peft (default ./peft; build once before submitting, e.g. ./peft --help, so that tasks
# do not build at the same time). PEFT_RUN_ARGS: extra options of 'peft run' (default: where the CoOp datasets are).
if [ -z "${PEFT_RUN_ARGS+set}" ]; then PEFT_RUN_ARGS="--set dataRoot=/data/coop"; fi
${PEFT_COMMAND:-./peft} run "$experiment" $PEFT_RUN_ARGS
