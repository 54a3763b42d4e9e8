/**
 * Running the command line in-process for tests: captured output and the
 * exit code.
 */
import { type CliIo, main } from "../src/cli/main.ts";

/** Captures what the CLI prints. */
export class CaptureIo implements CliIo {
  outLines: string[] = [];
  errLines: string[] = [];
  out(line: string): void {
    this.outLines.push(line);
  }
  err(line: string): void {
    this.errLines.push(line);
  }
  get errText(): string {
    return this.errLines.join("\n");
  }
}

/** Runs the CLI with `args` in this process. */
export async function runCli(args: string[]): Promise<{ code: number; io: CaptureIo }> {
  const io = new CaptureIo();
  const code = await main(args, io);
  return { code, io };
}
