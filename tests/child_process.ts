/**
 * A child process for tests: line-based stdout, stdin writes, and a stop
 * that always reaps it.
 */
import { type ChildProcess, spawn } from "node:child_process";

/** A spawned process read line by line. */
export class Child {
  readonly process: ChildProcess;
  readonly exited: Promise<number | null>;
  #lines: string[] = [];
  #buffer = "";
  #ended = false;
  #waiter: (() => void) | null = null;
  #stderr = "";

  constructor(command: string, args: string[], env?: Record<string, string>) {
    this.process = spawn(command, args, {
      stdio: ["pipe", "pipe", "pipe"],
      env: env ? { ...globalThis.process.env, ...env } : undefined,
    });
    this.exited = new Promise((resolve) => this.process.once("exit", (code) => resolve(code)));
    this.process.stdout!.setEncoding("utf8");
    this.process.stdout!.on("data", (text: string) => {
      this.#buffer += text;
      let newline: number;
      while ((newline = this.#buffer.indexOf("\n")) !== -1) {
        this.#lines.push(this.#buffer.slice(0, newline));
        this.#buffer = this.#buffer.slice(newline + 1);
      }
      this.#wake();
    });
    this.process.stdout!.on("end", () => {
      this.#ended = true;
      this.#wake();
    });
    this.process.stderr!.setEncoding("utf8");
    this.process.stderr!.on("data", (text: string) => {
      this.#stderr += text;
      this.#wake();
    });
    this.process.stdin!.on("error", () => {
      // The child may exit before reading everything; its exit code tells.
    });
  }

  /** Everything written to standard error so far. */
  get stderr(): string {
    return this.#stderr;
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.();
  }

  /** The next stdout line, or null once stdout ended. */
  async line(): Promise<string | null> {
    while (this.#lines.length === 0) {
      if (this.#ended) return null;
      await new Promise<void>((resolve) => {
        this.#waiter = resolve;
      });
    }
    return this.#lines.shift()!;
  }

  /** The next stdout line parsed as JSON; fails if stdout ends. */
  async json(): Promise<Record<string, unknown>> {
    const line = await this.line();
    if (line === null) throw new Error(`Child ended; stderr:\n${this.#stderr}`);
    return JSON.parse(line);
  }

  /** Resolves once stderr contains `text`; fails if the process exits first. */
  async stderrIncludes(text: string): Promise<void> {
    let exited = false;
    void this.exited.then(() => {
      exited = true;
      this.#wake();
    });
    while (!this.#stderr.includes(text)) {
      if (exited) throw new Error(`Exited before printing "${text}"; stderr:\n${this.#stderr}`);
      await new Promise<void>((resolve) => {
        this.#waiter = resolve;
      });
    }
  }

  /** Writes one line to stdin. */
  send(line: string): void {
    this.process.stdin!.write(line + "\n");
  }

  /** Writes one JSON value to stdin and returns the next stdout line as JSON. */
  ask(command: unknown): Promise<Record<string, unknown>> {
    this.send(JSON.stringify(command));
    return this.json();
  }

  /** Closes stdin, sends `signal` if it is still running, and waits for the exit code. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    this.process.stdin!.end();
    if (this.process.exitCode === null && this.process.signalCode === null) {
      this.process.kill(signal);
    }
    return await this.exited;
  }
}
