/**
 * Parses Prometheus text exposition with the Prometheus project's own Python client parser (Debian's
 * python3-prometheus-client), so the test checks the format against the reference implementation.
 */
import { execFileSync } from 'node:child_process';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SCRIPT = `
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for fam in text_string_to_metric_families(sys.stdin.read()):
    for s in fam.samples:
        out.append({"family": fam.name, "type": fam.type, "name": s.name, "labels": s.labels, "value": s.value})
print(json.dumps(out))
`;

export function parsePrometheus(text: string): Sample[] {
  const out = execFileSync('/usr/bin/python3', ['-c', SCRIPT], { input: text, encoding: 'utf8' });
  return JSON.parse(out) as Sample[];
}

export function sample(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}
