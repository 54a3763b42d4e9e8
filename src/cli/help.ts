/**
 * The help texts of the command line.
 *
 * @module
 */

const CONNECTION = `  --host <host>   Server host (default 127.0.0.1)
  --port <port>   Server port (default 8080)
  -h, --help      Show this help`;

/** A command with a help text. */
export type HelpTopic =
  | "main"
  | "serve"
  | "run-pubsub-server"
  | "pub"
  | "sub"
  | "req"
  | "pubsub-client";

/** Help texts, by command. */
export const HELP: Readonly<Record<HelpTopic, string>> = {
  main: `kn-sock-pubsub: a publish/subscribe server and client, wire-compatible with kn-sock

Usage:
  kn-sock-pubsub serve [--host 127.0.0.1] [--port 8080]
  kn-sock-pubsub pub <topic> <message> [--json] [--retain] [--header k=v]... [--host H] [--port P]
  kn-sock-pubsub sub <pattern>... [--group G] [--count N] [--host H] [--port P]
  kn-sock-pubsub req <topic> <message> [--json] [--timeout MS] [--host H] [--port P]

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
  pub:
    `Usage: kn-sock-pubsub pub <topic> <message> [--json] [--retain] [--header k=v]... [--host H] [--port P]

Publishes one message and exits once the server has routed it. The message
is sent as a string, as kn-sock does; with --json it is parsed as JSON first.
--retain and --header need this project's server (they say hello).

  --json          Send the message as a JSON value
  --retain        Keep it as the topic's retained message ("" clears it)
  --header k=v    Add a header (repeatable)
${CONNECTION}`,
  sub: `Usage: kn-sock-pubsub sub <pattern>... [--group G] [--count N] [--host H] [--port P]

Subscribes to the topics or patterns (+ matches one level, # the rest) and
prints each message as one JSON line {"topic": ..., "message": ...} on
standard output. Prints "Subscribed to ..." on standard error once the server
has the subscriptions.

  --group <g>     Join queue group g: each message goes to one member
  --count <n>     Exit after n messages (default: run until SIGINT)
${CONNECTION}`,
  req: `Usage: kn-sock-pubsub req <topic> <message> [--json] [--timeout MS] [--host H] [--port P]

Sends a request and prints the first reply as one JSON line. Exits with 1
when nobody is subscribed (no_responders) or no reply comes in time.

  --json          Send the message as a JSON value
  --timeout <ms>  How long to wait for the reply (default 10000)
${CONNECTION}`,
  "pubsub-client": `Usage: kn-sock-pubsub pubsub-client <host> <port> <topic> [message]

kn-sock's client form: publishes the message if one is given, otherwise
subscribes and prints messages as "sub" does.

  -h, --help      Show this help`,
};
