#!/usr/bin/python3
"""Parses a /metrics scrape (the file named as the argument) with the
reference parser of Debian's python3-prometheus-client and prints what it
understood as JSON: {family: {"type": ..., "samples": [[name, labels,
value], ...]}}. Exits 1 with the parser's complaint if the text does not
parse. Run by tests/e2e_metrics_test.cpp with /usr/bin/python3, the
interpreter Debian's package is installed for."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        text = f.read()
    out = {}
    try:
        for family in text_string_to_metric_families(text):
            out[family.name] = {
                "type": family.type,
                "samples": [[s.name, s.labels, s.value] for s in family.samples],
            }
    except Exception as e:  # the parser raises ValueError and friends
        print(f"parse error: {e!r}", file=sys.stderr)
        return 1
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
