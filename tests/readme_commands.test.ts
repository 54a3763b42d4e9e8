/**
 * README.md's command lines run as written, on the runtime each names: the
 * lines of its `sh` blocks that start the CLI (`npx @kn-sock/pubsub` on
 * Node, the npm build; `bunx --bun @kn-sock/pubsub` on Bun and
 * `deno run ... src/cli/bin.ts` on Deno, the sources), read from the README
 * so that an edit to it changes what runs. What is rewritten: client
 * commands reach a test server through `KN_SOCK_URL` (so Deno's lines get
 * `--allow-env`, as the README says), `serve` gets `--port 0` in place of its
 * fixed port (8080, written or the default), and `tail -f app.log` follows a
 * file the test writes. Nothing else: the arguments, the counts of `bench`
 * and Deno's other permissions are the README's. Lines that need a registry,
 * git or a user's project are in {@linkcode NOT_RUN} with the reason, and
 * every other line of every `sh` block must be a command line run here.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PubSubClient, startPubSubServer } from "../mod.ts";
import { npmReadme } from "../scripts/build_npm.ts";
import { Child } from "./child_process.ts";
import { type Runtime, serverBanner, spawnCli } from "./cli_processes.ts";
import { assertCleanExit, subscribed, take } from "./helpers.ts";

/** The `sh` lines deliberately not run, each with the reason. */
const NOT_RUN: Readonly<Record<string, string>> = {
  "npm ci && npm start":
    "npm ci installs from the registry; npm start is `serve` on Deno on fixed ports (the serve lines below run)",
  "npm ci && npm test": "npm ci installs from the registry; npm test runs this suite",
  "git clone <this repository> kn-sock-pubsub && cd kn-sock-pubsub":
    "needs git and a remote; the checkout is this one",
  "npm ci && npm run build && npm pack ./npm":
    "npm ci installs from the registry; npm test builds and packs the npm build",
  "cd /path/to/your/project": "a placeholder for the user's project, of the tarball install",
  "npm install /path/to/kn-sock-pubsub/kn-sock-pubsub-0.1.0.tgz":
    "installs into the user's project, with its dependencies from the registry",
  "deno add jsr:@kn-sock/pubsub": "needs JSR, where 0.1.0 is not yet published",
  "npm install @kn-sock/pubsub": "needs the npm registry, where 0.1.0 is not yet published",
  "bun add @kn-sock/pubsub": "needs the npm registry, where 0.1.0 is not yet published",
};

/** One command line of a README `sh` block, split into words as `sh` would. */
interface CommandLine {
  /** The line without its comment, its words joined by spaces. */
  text: string;
  /** What the line pipes into the CLI (`tail -f app.log`), if anything. */
  input?: string[];
  runtime: Runtime;
  /** Deno's `run` flags, as written. */
  denoFlags: string[];
  /** The CLI's arguments. */
  args: string[];
}

/** The words of a shell line: quotes removed, `|` a word of its own, a comment dropped. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  for (const match of line.matchAll(/'([^']*)'|"([^"]*)"|(\|)|(#.*)|([^\s'"|]+)/g)) {
    if (match[4] !== undefined) break;
    words.push(match[1] ?? match[2] ?? match[3] ?? match[5]);
  }
  return words;
}

/** The non-empty lines of the fenced `sh` blocks of a Markdown text, as words. */
function shellLines(markdown: string): string[][] {
  return [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)]
    .flatMap((block) => block[1].split("\n").map(shellWords))
    .filter((words) => words.length > 0);
}

/** The CLI line that `words` are, or undefined when they start no CLI. */
function commandLine(words: string[]): CommandLine | undefined {
  const text = words.join(" ");
  const pipe = words.indexOf("|");
  const input = pipe === -1 ? undefined : words.slice(0, pipe);
  const command = words.slice(pipe + 1);
  const line = { text, input, denoFlags: [] };
  if (command[0] === "npx" && command[1] === "@kn-sock/pubsub") {
    return { ...line, runtime: "node", args: command.slice(2) };
  }
  if (command[0] === "bunx" && command[1] === "--bun" && command[2] === "@kn-sock/pubsub") {
    return { ...line, runtime: "bun", args: command.slice(3) };
  }
  const bin = command.indexOf("src/cli/bin.ts");
  if (/^(node_modules\/\.bin\/)?deno$/.test(command[0]) && command[1] === "run" && bin !== -1) {
    return {
      ...line,
      runtime: "deno",
      denoFlags: command.slice(2, bin),
      args: command.slice(bin + 1),
    };
  }
  return undefined;
}

/** Starts `line`, with the rewrites of this file's comment. */
function start(line: CommandLine, url: string): Child {
  // `serve`: `--port 0` in place of its fixed port, the only rewrite of a serve line.
  const args = line.args[0] === "serve"
    ? [
      ...line.args.filter((arg, i) => arg !== "--port" && line.args[i - 1] !== "--port"),
      "--port",
      "0",
    ]
    : line.args;
  const env = { KN_SOCK_URL: url };
  if (line.runtime !== "deno") return spawnCli(line.runtime, args, env);
  const flags = args[0] === "serve" ? line.denoFlags : [...line.denoFlags, "--allow-env"];
  return new Child("node_modules/.bin/deno", ["run", ...flags, "src/cli/bin.ts", ...args], {
    NO_COLOR: "1",
    ...env,
  });
}

/** The next stdout line of `child`, failing with its stderr if it ends first. */
async function nextLine(child: Child, what: string): Promise<string> {
  const line = await child.line();
  assert.notEqual(line, null, `${what}: no output; stderr:\n${child.stderr}`);
  return line!;
}

/** A topic that `pattern` matches. */
function matching(pattern: string): string {
  return pattern.replaceAll("#", "readme").replaceAll("+", "readme");
}

test("README's sh lines are each run here or listed as not run, with the reason", () => {
  const lines = shellLines(readFileSync("README.md", "utf8"));
  const texts = lines.map((words) => words.join(" "));
  for (const words of lines) {
    const text = words.join(" ");
    assert.ok(
      commandLine(words) !== undefined || Object.hasOwn(NOT_RUN, text),
      `neither run nor listed: ${text}`,
    );
  }
  for (const text of Object.keys(NOT_RUN)) {
    assert.ok(texts.includes(text), `not in README: ${text}`);
  }
  // The npm package's README has no sh line that README's does not.
  for (const words of shellLines(npmReadme(readFileSync("README.md", "utf8")))) {
    assert.ok(texts.includes(words.join(" ")), `npm README only: ${words.join(" ")}`);
  }
});

test("README's CLI lines do what their comments say, on the runtimes they name", async () => {
  assert.ok(existsSync("npm/esm/src/cli/bin.js"), "run the npm build first (npm test does)");
  const lines = shellLines(readFileSync("README.md", "utf8")).map(commandLine)
    .filter((line) => line !== undefined);
  const runtimes = new Set(lines.map((line) => line.runtime));
  assert.deepEqual([...runtimes].sort(), ["bun", "deno", "node"]);
  const server = await startPubSubServer({ port: 0 });
  const url = `tcp://127.0.0.1:${server.addr.port}`;
  const client = await PubSubClient.connect("127.0.0.1", server.addr.port, { reconnect: false });
  const dir = mkdtempSync(join(tmpdir(), "kn-sock-readme-sh-"));
  // Every child is stopped at the end; `sub` and `reply` run until then, as in terminals of their own.
  const started: Child[] = [];
  try {
    for (const line of lines) {
      const what = `README line on ${line.runtime}: ${line.text}`;
      const child = start(line, url);
      started.push(child);
      const [command] = line.args;
      if (command === "serve") {
        // Its banner names the runtime; at SIGTERM it closes cleanly.
        await serverBanner(child, line.runtime);
        await child.stop();
        assertCleanExit(child);
      } else if (command === "sub") {
        await child.stderrIncludes("Subscribed to");
        const topic = matching(line.args[1]);
        await client.publish(topic, "from the README test");
        const printed = await nextLine(child, what);
        if (line.args.includes("--raw")) assert.equal(printed, "from the README test", what);
        else {assert.deepEqual(
            JSON.parse(printed),
            { topic, message: "from the README test" },
            what,
          );}
      } else if (command === "reply") {
        await child.stderrIncludes("Answering requests on");
      } else if (command === "req") {
        // `reply ... --exec date` answers it: the time of day.
        assert.match(await nextLine(child, what), /\b\d{1,2}:\d\d:\d\d\b/, what);
        assert.equal(await child.exited, 0, `${what}\n${child.stderr}`);
      } else if (command === "bench") {
        const output: string[] = [];
        for (let printed = await child.line(); printed !== null; printed = await child.line()) {
          output.push(printed);
        }
        assert.equal(await child.exited, 0, `${what}\n${child.stderr}`);
        assert.match(output.join("\n"), /msgs\/s[\s\S]*latency ms: p50 [\d.]+, p90/, what);
      } else if (command === "pub" && line.input === undefined) {
        const [, topic, message] = line.args;
        await subscribed(client, topic);
        assert.equal(await child.exited, 0, `${what}\n${child.stderr}`);
        const [received] = await take(client, 1);
        assert.deepEqual(
          { topic: received.topic, message: received.message },
          { topic, message },
          what,
        );
        await client.unsubscribe(topic);
      } else if (command === "pub") {
        // `tail -f app.log |`: tail follows a file the test writes, one message per line.
        const [, topic] = line.args;
        await subscribed(client, topic);
        const file = join(dir, "app.log");
        writeFileSync(file, "started\nlistening\n");
        assert.deepEqual(line.input?.slice(0, 2), ["tail", "-f"], what);
        const tail = spawn("tail", [...line.input!.slice(1, -1), file], {
          stdio: ["ignore", "pipe", "inherit"],
        });
        tail.stdout.pipe(child.process.stdin!);
        try {
          const first = await take(client, 2);
          assert.deepEqual(first.map((m) => [m.topic, m.message]), [[topic, "started"], [
            topic,
            "listening",
          ]]);
          appendFileSync(file, "a line written later\n");
          const [later] = await take(client, 1);
          assert.equal(later.message, "a line written later", what);
        } finally {
          tail.kill();
        }
        // tail ended: pub reads the end of its input and exits 0.
        assert.equal(await child.exited, 0, `${what}\n${child.stderr}`);
        await client.unsubscribe(topic);
      } else {
        assert.fail(`${what}: no check for "${command}" here`);
      }
    }
  } finally {
    for (const child of started) await child.stop("SIGINT");
    rmSync(dir, { recursive: true, force: true });
    await client.close();
    await server.close();
  }
});
