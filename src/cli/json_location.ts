/**
 * Where JSON text stops being JSON, as a line and a column, for error
 * messages about configuration files: the runtimes' `JSON.parse` errors
 * name no position (V8 and JavaScriptCore alike).
 *
 * @module
 */

/** A 1-based line and column. */
export interface TextLocation {
  /** The line, from 1. */
  line: number;
  /** The column, from 1. */
  column: number;
}

const WORDS = ["true", "false", "null"];

/** A recursive-descent reader that only finds the first offset that is not JSON. */
class Locator {
  readonly text: string;
  at = 0;
  /** Nesting depth, bounded so that a deep file cannot overflow the stack. */
  depth = 0;

  constructor(text: string) {
    this.text = text;
  }

  space(): void {
    while (/[ \t\r\n]/.test(this.text[this.at] ?? "")) this.at++;
  }

  value(): boolean {
    this.space();
    const char = this.text[this.at];
    if (char === "{" || char === "[") return this.container(char === "{" ? "}" : "]");
    if (char === '"') return this.string();
    const word = WORDS.find((w) => this.text.startsWith(w, this.at));
    if (word !== undefined) {
      this.at += word.length;
      return true;
    }
    const number = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.text.slice(this.at));
    if (number === null) return false;
    this.at += number[0].length;
    return true;
  }

  string(): boolean {
    // deno-lint-ignore no-control-regex -- JSON strings may not hold raw control characters
    const match = /^"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/.exec(
      this.text.slice(this.at, this.at + 1_000_000),
    );
    if (match === null) return false;
    this.at += match[0].length;
    return true;
  }

  container(close: "}" | "]"): boolean {
    if (++this.depth > 256) return false;
    this.at++;
    this.space();
    if (this.text[this.at] === close) {
      this.at++;
      this.depth--;
      return true;
    }
    while (true) {
      if (close === "}") {
        this.space();
        if (this.text[this.at] !== '"' || !this.string()) return false;
        this.space();
        if (this.text[this.at] !== ":") return false;
        this.at++;
      }
      if (!this.value()) return false;
      this.space();
      const next = this.text[this.at];
      if (next === close) {
        this.at++;
        this.depth--;
        return true;
      }
      if (next !== ",") return false;
      this.at++;
    }
  }
}

/** Where `text` stops being JSON, or `null` when it is JSON. */
export function jsonErrorLocation(text: string): TextLocation | null {
  const locator = new Locator(text);
  if (locator.value()) {
    locator.space();
    if (locator.at === text.length) return null;
  }
  const before = text.slice(0, locator.at);
  const lines = before.split("\n");
  return { line: lines.length, column: lines[lines.length - 1].length + 1 };
}
