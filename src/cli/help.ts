/**
 * The help texts of the command line.
 *
 * @module
 */

const CONNECTION = `  --host <host>   Server host (default 127.0.0.1)
  --port <port>   Server port (default 8080)
  -h, --help      Show this help`;

/** A command with a help text. */
export type HelpTopic = "main" | "serve" | "run-pubsub-server" | "pub" | "sub" | "pubsub-client";

/** Help texts, by command. */
export const HELP: Readonly<Record<HelpTopic, string>> = {
  main: `kn-sock-pubsub: a publish/subscribe server and client, wire-compatible with kn-sock

Usage:
  kn-sock-pubsub serve [--host 127.0.0.1] [--port 8080]
  kn-sock-pubsub pub <topic> <message> [--json] [--host H] [--port P]
  kn-sock-pubsub sub <topic>... [--count N] [--host H] [--port P]

kn-sock's command forms:
  kn-sock-pubsub run-pubsub-server <port> [--host 127.0.0.1]
  kn-sock-pubsub pubsub-client <host> <port> <topic> [message]

Run "kn-sock-pubsub <command> --help" for a command's options.
  --version       Print the version`,
  serve: `Usage: kn-sock-pubsub serve [--host 127.0.0.1] [--port 8080] [--quiet]

Runs a server until SIGINT or SIGTERM, then shuts down cleanly. Prints
"kn-sock pubsub server listening on HOST:PORT" on standard output and logs
connections on standard error. --port 0 picks a free port.

  -q, --quiet     Log only warnings and errors
${CONNECTION}`,
  "run-pubsub-server": `Usage: kn-sock-pubsub run-pubsub-server <port> [--host 127.0.0.1]

kn-sock's form of "serve".

  -q, --quiet     Log only warnings and errors
${CONNECTION}`,
  pub: `Usage: kn-sock-pubsub pub <topic> <message> [--json] [--host H] [--port P]

Publishes one message and exits once the server has routed it. The message
is sent as a string, as kn-sock does; with --json it is parsed as JSON first.

  --json          Send the message as a JSON value
${CONNECTION}`,
  sub: `Usage: kn-sock-pubsub sub <topic>... [--count N] [--host H] [--port P]

Subscribes to the topics and prints each message as one JSON line
{"topic": ..., "message": ...} on standard output. Prints "Subscribed to ..."
on standard error once the server has the subscriptions.

  --count <n>     Exit after n messages (default: run until SIGINT)
${CONNECTION}`,
  "pubsub-client": `Usage: kn-sock-pubsub pubsub-client <host> <port> <topic> [message]

kn-sock's client form: publishes the message if one is given, otherwise
subscribes and prints messages as "sub" does.

  -h, --help      Show this help`,
};
