"""Checks a /metrics page with Prometheus' own parser (python3-prometheus-client).

Usage: check_metrics.py METRICS_FILE NAME=VALUE...
Each NAME is a sample name, with labels as in the text ("distributo_tasks{state=done}"
is written distributo_tasks:state=done); its value must equal VALUE. Exits 1, saying
what differs, if the page does not parse or a value is off.
"""
import sys

from prometheus_client.parser import text_string_to_metric_families


def samples(text):
    found = {}
    for family in text_string_to_metric_families(text):
        if not family.documentation:
            raise ValueError(f"{family.name} has no HELP")
        for sample in family.samples:
            key = sample.name + "".join(
                f":{k}={v}" for k, v in sorted(sample.labels.items()))
            found[key] = sample.value
    return found


def main():
    with open(sys.argv[1]) as f:
        found = samples(f.read())
    wrong = []
    for expectation in sys.argv[2:]:
        name, value = expectation.rsplit("=", 1)
        if found.get(name) != float(value):
            wrong.append(f"{name}: {found.get(name)} (expected {value})")
    if wrong:
        print("\n".join(wrong))
        return 1
    print(f"{len(found)} samples parsed; {len(sys.argv) - 2} checked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
