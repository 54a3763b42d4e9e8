/**
 * The help texts of the command line.
 *
 * @module
 */

const CONNECTION = `  --host <host>   Server host (default 127.0.0.1)
  --port <port>   Server port (default 8080)
  -h, --help      Show this help`;

const CLIENT_CONNECTION = `  -s, --server <url>
                  The server: tcp://host:port, tls://host:port, ws://host:port/path,
                  wss://host:port/path or host:port (default: the KN_SOCK_URL
                  environment variable, else --host and --port)
${CONNECTION}`;

const TLS_CLIENT = `  --tls           Connect with TLS, trusting the runtime's default CAs
  --tls-ca <file> Connect with TLS, trusting the CA certificate(s) in this
                  PEM file (on Deno in addition to the default CAs)
  --tls-server-name <name>
                  The name the server's certificate must carry (default:
                  the host); implies --tls`;

const AUTH_CLIENT = `  --user <name>   Authenticate as this user, with --password <p> (or the
                  KN_SOCK_PASSWORD environment variable); implies hello
  --token <t>     Authenticate with a token (or KN_SOCK_TOKEN)`;

const SERVER_EXTRA = `  -v, --verbose, --debug
                  Log debug lines too
  --log-format <f>
                  text (default) or json: one JSON object per line, with
                  time, level, msg and the line's fields
  --limit <name=value>
                  Change a server limit (repeatable), by its name in
                  docs/OPERATIONS.md: --limit maxPayloadBytes=65536
  --config <file> The server's JSON file: "users" (and "default_permissions";
                  given, every client must authenticate: see docs/AUTH.md),
                  "limits" ({"maxPayloadBytes": 65536, ...}) and
                  "slow_consumer_policy"; flags win over it
  --slow-consumer-policy <p>
                  disconnect (default), drop-oldest or drop-newest
  --no-warm-up    Listen at once: by default the server first routes 100,000
                  publishes in memory (a fraction of a second) so that its
                  first clients meet compiled code`;

const WEBSOCKET_SERVER = `  --ws-port <port>
                  Serve WebSocket clients too, on this HTTP port (0 picks one)
  --ws-host <host>
                  The WebSocket address to bind (default: --host)
  --ws-path <path>
                  The WebSocket path (default /ws)
  --ws-origin <url>
                  Accept browsers from this origin only (repeatable; default:
                  every origin; clients that send no Origin are accepted)`;

const MONITOR_SERVER = `  --monitor-port <port>
                  Serve monitoring (/healthz, /varz, /connz, /subsz, /metrics,
                  /events) and the dashboard at / on this HTTP port (0 picks
                  one; the --ws-port value shares that listener)
  --monitor-host <host>
                  The monitoring address to bind (default 127.0.0.1; binding
                  elsewhere without --monitor-token prints a warning)
  --monitor-token <t>
                  Require "Authorization: Bearer <t>" on every endpoint but
                  /healthz (or KN_SOCK_MONITOR_TOKEN)
  --sys-stats <s> Publish a stats snapshot to $SYS/stats every s seconds`;

const CLUSTER_SERVER = `  --redis <url>   Act as one broker with the other servers on this Redis
                  (redis://[user:pass@]host:6379, rediss:// for TLS; see
                  docs/CLUSTER.md)
  --cluster-name <name>
                  The cluster's name on that Redis (default "default")`;

const MONITOR_CLIENT = `  --monitor-host <host>
                  The monitor's host (default 127.0.0.1)
  --monitor-port <port>
                  The monitor's port (default 8222)
  --monitor-token <t>
                  Its token, when it has one (or KN_SOCK_MONITOR_TOKEN)
  -h, --help      Show this help`;

const TLS_SERVER = `  --tls-cert <file>
                  Serve TLS only, with the PEM certificate chain in file
  --tls-key <file>
                  and the PEM private key in file (give both)`;

/** A command with a help text. */
export type HelpTopic =
  | "main"
  | "serve"
  | "run-pubsub-server"
  | "pub"
  | "sub"
  | "req"
  | "reply"
  | "bench"
  | "pubsub-client"
  | "hash-password"
  | "hash-token"
  | "stats"
  | "top";

/** Help texts, by command. */
export const HELP: Readonly<Record<HelpTopic, string>> = {
  main: `kn-sock-pubsub: a publish/subscribe server and client, wire-compatible with kn-sock

Usage:
  kn-sock-pubsub serve [--host 127.0.0.1] [--port 8080] [--tls-cert F --tls-key F] [--config F]
                       [--ws-port 8081] [--ws-path /ws] [--ws-origin URL]...
                       [--monitor-port 8222] [--monitor-host H] [--monitor-token T]
                       [--redis redis://127.0.0.1:6379] [--cluster-name NAME]
  kn-sock-pubsub pub <topic> <message> [--json] [--retain] [--header k=v]... [--timeout MS] [--kn-sock]
  kn-sock-pubsub pub <topic> - | --stdin | --file F [--lines] [--count N]
  kn-sock-pubsub sub <pattern>... [--group G] [--count N] [--reconnect] [--timeout MS] [--kn-sock]
                     [--raw | --verbose | --format T] [--no-retained]
  kn-sock-pubsub req <topic> <message> [--json] [--timeout MS] [--host H] [--port P]
  kn-sock-pubsub reply <pattern> <response> | --exec CMD [--group G] [--count N] [--json]
  kn-sock-pubsub bench [topic] [--pub N] [--sub N] [--count N] [--size B]

Monitoring (a server run with --monitor-port):
  kn-sock-pubsub stats [--json] [--monitor-port 8222]   # the server's figures, once
  kn-sock-pubsub top [--monitor-port 8222]              # a refreshing table

Client commands find the server with --server URL (tcp://, tls://, ws://, wss://), else
--host and --port, else the KN_SOCK_URL environment variable, else 127.0.0.1:8080; they
connect with TLS given --tls, --tls-ca FILE or --tls-server-name NAME, and authenticate
given --user U --password P or --token T.

Users files:
  kn-sock-pubsub hash-password [--iterations N]  < password   # prints the hash to store
  kn-sock-pubsub hash-token  < token

kn-sock's command forms:
  kn-sock-pubsub run-pubsub-server <port> [--host 127.0.0.1]
  kn-sock-pubsub pubsub-client <host> <port> <topic> [message]

Run "kn-sock-pubsub <command> --help" for a command's options.
  --version       Print the version and the runtime that runs the CLI

Exit codes: 0 done, 1 failed (the server refused, could not connect, timed
out), 2 bad arguments, 130 interrupted by SIGINT (143 SIGTERM).
The npm bin runs on Node (its shebang); "bunx --bun @kn-sock/pubsub" runs it
on Bun. "serve" and "--version" say which runtime runs it.`,
  serve:
    `Usage: kn-sock-pubsub serve [--host 127.0.0.1] [--port 8080] [--quiet] [--tls-cert F --tls-key F]
                            [--ws-port 8081] [--ws-host H] [--ws-path /ws] [--ws-origin URL]...

Runs a server until SIGINT or SIGTERM, then shuts down cleanly. Prints
"kn-sock pubsub server listening on HOST:PORT" on standard output and logs
connections on standard error. --port 0 picks a free port. With --tls-cert
and --tls-key it accepts TLS connections only; with --config every client
must authenticate (on Deno, run it with --allow-read to read the files).
With --ws-port it serves WebSocket clients too (wss: with TLS), the same
broker, and prints "kn-sock pubsub WebSocket listening on URL". With
--monitor-port it serves monitoring and a dashboard, and prints
"kn-sock pubsub monitoring on URL". With --redis it is one node of a
cluster on that Redis, and prints "kn-sock pubsub cluster NAME on redis,
node ID".

  -q, --quiet     Log only warnings and errors
${SERVER_EXTRA}
${TLS_SERVER}
${WEBSOCKET_SERVER}
${MONITOR_SERVER}
${CLUSTER_SERVER}
${CONNECTION}`,
  "run-pubsub-server": `Usage: kn-sock-pubsub run-pubsub-server <port> [--host 127.0.0.1]

kn-sock's form of "serve".

  -q, --quiet     Log only warnings and errors
${SERVER_EXTRA}
${TLS_SERVER}
${WEBSOCKET_SERVER}
${MONITOR_SERVER}
${CONNECTION}`,
  pub:
    `Usage: kn-sock-pubsub pub <topic> <message> [--json] [--retain] [--header k=v]... [--count N]
       kn-sock-pubsub pub <topic> - | --stdin | --file F [--lines] [--json] ...

Publishes the message and exits 0 once the server has routed it: it is sent
with an id, which the server answers. A refusal (a payload over the server's
limit, a forbidden topic, auth_required) is printed and exits 1; a topic with
+ or # exits 2. The message is sent as a string, as kn-sock does; with --json
it is parsed as JSON first. --retain and --header need this project's server
(they say hello).

  -, --stdin      Read the message from standard input (one final newline
                  is dropped)
  --file <f>      Read the message from a file (for payloads past the
                  argument-size limit)
  --lines         One message per line of --stdin or --file (empty lines
                  skipped), published as they come
  --count <n>     Publish the message n times
  --json          Send the message as a JSON value
  --retain        Keep it as the topic's retained message ("" clears it)
  --header k=v    Add a header (repeatable)
  --timeout <ms>  Give up (exit 1) when connecting, or the server's answer,
                  takes longer (default 10000)
  --kn-sock       The server is kn-sock's, which answers nothing: exit once
                  the message is written (nothing confirms it was routed)
${TLS_CLIENT}
${AUTH_CLIENT}
${CLIENT_CONNECTION}`,
  sub:
    `Usage: kn-sock-pubsub sub <pattern>... [--group G] [--count N] [--raw | --verbose | --format T]
                          [--no-retained] [--reconnect] [--timeout MS] [--server URL]

Subscribes to the topics or patterns (+ matches one level, # the rest) and
prints each message as one JSON line {"topic": ..., "message": ...} on
standard output. Prints "Subscribed to ..." on standard error once the server
has confirmed the subscriptions. Exits 0 at SIGINT or SIGTERM, and when
standard output closes (sub '#' | head -1).

  --group <g>     Join queue group g: each message goes to one member
  --count <n>     Exit after n messages (default: run until SIGINT)
  --reconnect     Reconnect (and subscribe again) when the server goes away,
                  instead of exiting, saying so on standard error; retry the
                  first connect too
  --timeout <ms>  Give up (exit 1) when connecting and subscribing take longer
                  (default 10000); given, also stop once no message came for
                  that long (exit 1 if --count was not reached, else 0)
  --raw           Print only the payload (a string as it is, else JSON)
  -v, --verbose   Print every field as JSON: topic, message, seq, headers,
                  reply, retained (says hello: this project's server). After
                  hello, a server that is a cluster node says on standard
                  error when it is cut off from the other nodes and back
  --format <t>    Print a template: {topic} {message} {json} {seq} {reply}
                  {retained} {headers} {header:NAME}, \n and \t; fields other
                  than topic, message and json say hello
  --no-retained   Skip the retained messages sent on subscribing (says hello)
  --kn-sock       The server is kn-sock's, which answers nothing: confirm the
                  subscriptions with a marker message on a private topic
${TLS_CLIENT}
${AUTH_CLIENT}
${CLIENT_CONNECTION}`,
  req: `Usage: kn-sock-pubsub req <topic> <message> [--json] [--timeout MS] [--host H] [--port P]

Sends a request and prints the first reply as one JSON line. Exits with 1
when nobody is subscribed (no_responders) or no reply comes in time, 130 at
SIGINT.

  --json          Send the message as a JSON value
  --timeout <ms>  How long to wait for the connection and the reply
                  (default 10000)
${TLS_CLIENT}
${AUTH_CLIENT}
${CLIENT_CONNECTION}`,
  reply: `Usage: kn-sock-pubsub reply <pattern> <response> [--json] [--group G] [--count N]
       kn-sock-pubsub reply <pattern> --exec CMD [--json] [--group G] [--count N]

Answers each request ("req", or client.request()) on the topic or pattern:
with the response, or with what CMD prints (run with sh -c, the request's
payload on its standard input; on Deno, run with --allow-run --allow-env).
Prints each request as one JSON line. Says hello (this project's server).

  --exec <cmd>    Answer with the command's output (one final newline dropped);
                  a command that fails, or runs past --timeout, answers nothing
  --json          Send the response (or the command's output) as a JSON value
  --group <g>     Share the requests with other responders in group g
  --count <n>     Exit after answering n requests (default: run until SIGINT)
  --timeout <ms>  Give up (exit 1) when connecting and subscribing take longer,
                  and stop a command after this long (default 10000)
${TLS_CLIENT}
${AUTH_CLIENT}
${CLIENT_CONNECTION}`,
  bench: `Usage: kn-sock-pubsub bench [topic] [--pub N] [--sub N] [--count N] [--size B]

Measures a server, like "nats bench": N publishers share --count messages of
--size bytes on the topic (default "bench"), each of N subscribers receives
them all; then prints the publish rate, the delivery rate and the latency
percentiles (p50, p90, p99, p99.9, max). Shows a progress bar when standard
error is a terminal. Use a topic nobody else publishes to.

  --pub <n>       Publishing clients (default 1)
  --sub <n>       Subscribing clients (default 1)
  --count <n>     Messages in all (default 100000)
  --size <b>      Bytes of each message (default 128)
  --timeout <ms>  Give up (exit 1) when connecting takes longer, or a
                  subscriber waits longer for its next message (default 10000)
${TLS_CLIENT}
${AUTH_CLIENT}
${CLIENT_CONNECTION}`,
  "pubsub-client": `Usage: kn-sock-pubsub pubsub-client <host> <port> <topic> [message]

kn-sock's client form: publishes the message if one is given, otherwise
subscribes and prints messages as "sub" does.

  --kn-sock       The server is kn-sock's (see "pub --help" and "sub --help")
${TLS_CLIENT}
${AUTH_CLIENT}
  -h, --help      Show this help`,
  "hash-password": `Usage: kn-sock-pubsub hash-password [--iterations N] < password

Reads a password from standard input and prints the salted hash to store as
a user's "password" in a users file (PBKDF2-SHA256, 600000 iterations by
default).

  --iterations <n> PBKDF2 iterations (at least 1000)
  -h, --help      Show this help`,
  "hash-token": `Usage: kn-sock-pubsub hash-token < token

Reads a token from standard input and prints the hash to store as a user's
"token" in a users file (SHA-256).

  -h, --help      Show this help`,
  stats: `Usage: kn-sock-pubsub stats [--json] [--monitor-host H] [--monitor-port 8222]

Prints the figures of a server run with --monitor-port (its /varz) once: as
a few lines, or with --json the whole /varz object.

  --json          Print /varz as JSON
${MONITOR_CLIENT}`,
  top: `Usage: kn-sock-pubsub top [--monitor-host H] [--monitor-port 8222] [--count N]

Shows a server's rates, connections and busiest connections and topics
(from its monitoring endpoints), refreshed every second until SIGINT. On a
terminal the screen is redrawn; otherwise each refresh prints a plain block.

  --count <n>     Exit after n refreshes
  --connections <n>
                  Connections listed (default 10)
${MONITOR_CLIENT}`,
};
