#!/usr/bin/env bash
# The Spark example (examples/spark/) on local[2]: 100,000 generated orders re-decided through Spark
# (mapInArrow + policy_lang.decide_batch) must equal `policy eval` on the same orders, row for row.
# Needs the environment .ci/python.sh builds (the package installed in target/py-venv). Installs a
# headless JDK from Debian when `java` is missing, and pyspark from PyPI into the environment.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${POLICY_PY_VENV:-$ROOT/target/py-venv}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

if ! command -v java >/dev/null 2>&1; then
    timeout 900 bash -c 'apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless >/dev/null'
fi
java -version 2>&1 | head -1
# Spark 4 runs on Java 17 and 21.
# The `sql` extra brings pandas, which mapInArrow requires (pandas 3 is not yet supported by pyspark).
timeout 900 "$VENV/bin/pip" install --quiet "pyspark[sql]>=4.0,<5" "pandas<3"

set +e
POLICY_BIN="$CARGO_TARGET_DIR/release/policy" SPARK_ORDERS=${SPARK_ORDERS:-100000} \
    timeout 1500 "$VENV/bin/python" -m pytest examples/spark/test_spark.py -q -p no:cacheprovider
status=$?
set -e
if [ "$status" -ne 0 ]; then
    echo "Spark test failed (exit $status)" >&2
    exit 1
fi
