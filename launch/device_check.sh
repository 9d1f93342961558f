#!/usr/bin/env bash
# One prepared check for a lent GPU, under 8 minutes, that prints a Markdown table
# for WORKSPACE.md:
#   launch/device_check.sh            # on the GPU machine, from the repository root
#   launch/device_check.sh --smoke    # tiny sizes on any machine (CPU): checks the script
# Rows: the devices jax sees; the engine and model tests on that device; PPO
# CartPole-v1 with 2,048 vmapped agents for 500k steps each (PureJaxRL reports
# 2,048 agents in about 98 s on one A100, its README); classification throughput
# (scan dispatch, MLP / LeNet / ResNet); a vmapped ensemble against members one by
# one; and two runs of the same config, byte-compared, with GPU determinism on
# (--xla_gpu_deterministic_ops=true, as launch.reproduce sets it).
# Python: $PYTHON, else .venv/bin/python (install requirements-cuda12.txt there).
# Each row runs under `timeout`; a row that fails or times out says so and the
# others still run; the exit status is the number of failed rows.
set -uo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-.venv/bin/python}
[ -x "$py" ] || py=python3
smoke=0
case "${1:-}" in
  '') ;;
  --smoke) smoke=1 ;;
  *) echo "device_check: unknown argument '$1'; allowed: --smoke (or none)" >&2; exit 2 ;;
esac
export XLA_FLAGS="${XLA_FLAGS:-} --xla_gpu_deterministic_ops=true"

backend=$("$py" -c 'import jax; print(jax.default_backend())' 2>/dev/null || echo none)
if [ "$smoke" = 0 ] && [ "$backend" != gpu ]; then
  echo "device_check: jax's backend is '$backend', not gpu; install the GPU build first (.venv/bin/pip install -r requirements-cuda12.txt) or run --smoke" >&2
  exit 2
fi
if [ "$smoke" = 1 ]; then
  agents=4 steps=20000 seconds=0.3 members=2 ensemble_steps=50 tests='test_models.py'
  models='--models=mlp --models=lenet'  # a ResNet takes minutes on a CPU
else
  agents=2048 steps=500000 seconds=3 members=8 ensemble_steps=500
  tests='test_engine.py test_models.py' models='--models=mlp --models=lenet --models=resnet'
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
failed=0
rows=()

# row NAME LIMIT_S COMMAND...: runs it, keeps its output, records seconds and status.
row() {
  local name=$1 limit=$2
  shift 2
  local start=$SECONDS status
  timeout "$limit" "$@" >"$out/$name.log" 2>&1
  status=$?
  local took=$((SECONDS - start))
  if [ $status = 0 ]; then
    rows+=("| $name | ok | $took |")
  else
    failed=$((failed + 1))
    [ $status = 124 ] && status="timed out after ${limit} s" || status="exit $status"
    rows+=("| $name | FAILED ($status): $(tail -1 "$out/$name.log") | $took |")
  fi
}

row devices 60 "$py" -c 'import jax; print(jax.__version__, jax.devices())'
row tests 150 "$py" -m pytest -q -x -p no:cacheprovider $(printf 'tests/%s ' $tests)
row ppo_cartpole 150 "$py" -m launch.bench_rl --only="$agents" --total_timesteps="$steps"
row throughput 90 "$py" -m launch.bench_throughput --seconds="$seconds" --rounds=1 $models
row ensemble 60 "$py" -m launch.bench_ensemble --members="$members" --num_steps="$ensemble_steps"
for run in a b; do
  row "bit_identical_$run" 90 "$py" -m experiments.main \
    --config=experiments/configs/classify/lenet.py:quick --config.progress=False \
    --config.train.num_steps=200 --workdir="$out/run_$run"
done

echo "## device check ($(date -u +%F), $("$py" -c 'import jax; d = jax.devices(); print(len(d), "x", d[0].device_kind)' 2>/dev/null)$([ "$smoke" = 1 ] && echo ', smoke sizes'))"
echo
echo '| check | result | seconds |'
echo '|---|---|---|'
printf '%s\n' "${rows[@]}"
echo
echo "devices: $(tail -1 "$out/devices.log")"
echo "tests: $(tail -1 "$out/tests.log")"
if [ -s "$out/ppo_cartpole.log" ]; then
  "$py" - "$out/ppo_cartpole.log" "$agents" <<'EOF'
import json, sys
try:
  row = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
except (ValueError, IndexError):
  sys.exit(0)
agents = int(sys.argv[2])
print(f"PPO CartPole-v1, {agents} agents x {row['steps']:,} steps on {row['device']}: compile "
      f"{row['compile_s']:.1f} s, run {row['run_s']:.1f} s, "
      f"{agents * row['steps'] / row['run_s']:,.0f} env steps/s (PureJaxRL: 2,048 agents in ~98 s "
      "on an A100)")
EOF
fi
echo 'throughput:'
grep -E '^(mlp|lenet|resnet) ' "$out/throughput.log" || true
echo 'ensemble:'
tail -2 "$out/ensemble.log"
if cmp -s "$out/run_a/metrics.jsonl" "$out/run_b/metrics.jsonl"; then
  echo 'two runs: metrics.jsonl byte-identical'
else
  echo 'two runs: metrics.jsonl DIFFER'
  failed=$((failed + 1))
fi
exit $failed
