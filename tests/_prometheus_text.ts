/**
 * The Prometheus text format parsed by `parse-prometheus-text-format` (a
 * port of the Prometheus Python client's parser), plus the checks that
 * parser leaves out: one HELP and one TYPE per family, numeric values,
 * valid names, `_total` on counters.
 */
import parsePrometheusText from "parse-prometheus-text-format";

/** One parsed family. */
export interface ParsedFamily {
  name: string;
  help: string;
  type: string;
  metrics: { value: string; labels?: Record<string, string> }[];
}

/** Parses `text`, throwing on anything the format or its conventions forbid. */
export function parseMetrics(text: string): ParsedFamily[] {
  const families = (parsePrometheusText as (text: string) => ParsedFamily[])(text);
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const family of families) {
    if (seen.has(family.name)) problems.push(`${family.name}: family appears twice`);
    seen.add(family.name);
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(family.name)) problems.push(`${family.name}: bad name`);
    if (family.help === "") problems.push(`${family.name}: no HELP`);
    if (family.type === "UNTYPED") problems.push(`${family.name}: no TYPE`);
    if (family.type === "COUNTER" && !family.name.endsWith("_total")) {
      problems.push(`${family.name}: a counter without _total`);
    }
    if (family.type !== "COUNTER" && family.name.endsWith("_total")) {
      problems.push(`${family.name}: _total on a ${family.type}`);
    }
    for (const metric of family.metrics) {
      if (!/^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$|^[-+]?Inf$|^NaN$/.test(metric.value)) {
        problems.push(`${family.name}: value "${metric.value}" is not a number`);
      }
    }
  }
  for (const [, directive, name] of text.matchAll(/^# (HELP|TYPE) (\S+)/gm)) {
    const key = `# ${directive} ${name}`;
    if (seen.has(key)) problems.push(`${key} appears twice`);
    seen.add(key);
  }
  if (problems.length > 0) throw new Error(problems.join("\n"));
  return families;
}

/** The value of the sample of `name` whose labels include `labels`. */
export function sampleValue(
  families: ParsedFamily[],
  name: string,
  labels: Record<string, string> = {},
): number {
  const family = families.find((f) => f.name === name);
  const metric = family?.metrics.find((m) =>
    Object.entries(labels).every(([k, v]) => m.labels?.[k] === v)
  );
  if (metric === undefined) throw new Error(`No sample ${name} ${JSON.stringify(labels)}`);
  return Number(metric.value);
}
