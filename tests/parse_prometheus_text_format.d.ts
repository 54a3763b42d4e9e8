// The types of `parse-prometheus-text-format`, which ships none (for tsc; Deno infers `any`).
declare module "parse-prometheus-text-format" {
  /** One family as the parser returns it. */
  interface Family {
    name: string;
    help: string;
    type: string;
    metrics: { value: string; labels?: Record<string, string> }[];
  }
  /** Parses the Prometheus text exposition format. */
  export default function parsePrometheusTextFormat(text: string): Family[];
}
