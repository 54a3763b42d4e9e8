/**
 * Auth: password and token hashes, the users file parser and the
 * authenticator (permissions are in permissions.test.ts). PBKDF2 runs with
 * 1000 iterations to stay fast.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  Authenticator,
  hashPassword,
  hashToken,
  parseUsersConfig,
  verifyPassword,
} from "../mod.ts";
import { timingSafeEqual } from "../src/auth/_bytes.ts";

const FAST = { iterations: 1000 };
const HASH = "pbkdf2-sha256$1000$AAAAAAAAAAAAAAAAAAAAAA==$" + "A".repeat(43) + "=";
const TOKEN_HASH = "sha256$" + "0".repeat(64);

// --- passwords ---

test("hashPassword() makes a self-describing pbkdf2-sha256 string", async () => {
  const stored = await hashPassword("s3cret", FAST);
  assert.match(stored, /^pbkdf2-sha256\$1000\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
});

test("hashPassword() uses a fresh salt each time", async () => {
  assert.notEqual(await hashPassword("same", FAST), await hashPassword("same", FAST));
});

/**
 * Runs `body` while `crypto.subtle.deriveBits` records the PBKDF2 iteration
 * counts it is asked for; with `fake`, it returns zero bytes instead of
 * running them.
 */
async function recordPbkdf2(body: () => Promise<void>, fake = false): Promise<number[]> {
  const original = crypto.subtle.deriveBits;
  const iterations: number[] = [];
  crypto.subtle.deriveBits = function (this: SubtleCrypto, algorithm, key, length) {
    iterations.push((algorithm as Pbkdf2Params).iterations);
    if (fake) return Promise.resolve(new ArrayBuffer((length ?? 0) / 8));
    return original.call(this, algorithm, key, length);
  } as typeof original;
  try {
    await body();
  } finally {
    crypto.subtle.deriveBits = original;
  }
  return iterations;
}

test("hashPassword() defaults to 600000 iterations", async () => {
  let stored = "";
  const iterations = await recordPbkdf2(async () => {
    stored = await hashPassword("x");
  }, true);
  assert.deepEqual(iterations, [600000]);
  assert.match(stored, /^pbkdf2-sha256\$600000\$/);
});

test("hashPassword() rejects an empty password and bad iteration counts", async () => {
  await assert.rejects(hashPassword("", FAST), TypeError);
  await assert.rejects(hashPassword("x", { iterations: 0 }), RangeError);
  await assert.rejects(hashPassword("x", { iterations: 1.5 }), RangeError);
});

test("verifyPassword() accepts the right password", async () => {
  const stored = await hashPassword("correct horse", FAST);
  assert.equal(await verifyPassword("correct horse", stored), true);
});

test("verifyPassword() rejects a wrong password without throwing", async () => {
  const stored = await hashPassword("correct horse", FAST);
  assert.equal(await verifyPassword("correct hors", stored), false);
  assert.equal(await verifyPassword("", stored), false);
  assert.equal(await verifyPassword("Correct horse", stored), false);
});

test("verifyPassword() hashes the UTF-8 bytes of non-ASCII passwords", async () => {
  const stored = await hashPassword("pässwörd🔑", FAST);
  assert.equal(await verifyPassword("pässwörd🔑", stored), true);
  assert.equal(await verifyPassword("passwort🔑", stored), false);
});

test("verifyPassword() agrees with another PBKDF2-HMAC-SHA256 implementation", async () => {
  // Python: base64(hashlib.pbkdf2_hmac("sha256", b"passwd", b"saltSALTsaltSALT", 1000, 32)).
  const stored = "pbkdf2-sha256$1000$c2FsdFNBTFRzYWx0U0FMVA==$" +
    "cMYAPciW1i+SErK4yW3XZi+Igk/Wt+Ux0CUykos5dms=";
  assert.equal(await verifyPassword("passwd", stored), true);
  assert.equal(await verifyPassword("passwc", stored), false);
});

const MALFORMED: [stored: string, reason: RegExp][] = [
  ["", /expected "pbkdf2-sha256\$<iterations>\$<salt>\$<hash>"/],
  ["hunter2", /expected "pbkdf2-sha256/],
  ["pbkdf2-sha1$1000$AAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAA==", /expected "pbkdf2-sha256/],
  [HASH + "$extra", /expected "pbkdf2-sha256/],
  [HASH.replace("$1000$", "$0$"), /iterations must be an integer/],
  [HASH.replace("$1000$", "$01000$"), /iterations must be an integer/],
  [HASH.replace("$1000$", "$-5$"), /iterations must be an integer/],
  [HASH.replace("$1000$", "$4294967296$"), /iterations must be an integer/],
  [HASH.replace("AAAAAAAAAAAAAAAAAAAAAA==", ""), /salt must be/],
  [HASH.replace("AAAAAAAAAAAAAAAAAAAAAA==", "AAAA"), /salt must be/],
  [HASH.replace("AAAAAAAAAAAAAAAAAAAAAA==", "AAAAAAAAAAA*AAAAAAAAAA=="), /salt must be/],
  [HASH.replace("AAAAAAAAAAAAAAAAAAAAAA==", "AAAAAAAAAAAAAAAAAAAAAA"), /salt must be/],
  [HASH.slice(0, HASH.lastIndexOf("$") + 1) + "AAAA", /hash must be/],
  [HASH.slice(0, HASH.lastIndexOf("$") + 1), /hash must be/],
];

for (const [stored, reason] of MALFORMED) {
  test(`verifyPassword() throws a TypeError for the malformed hash '${stored}'`, async () => {
    await assert.rejects(verifyPassword("x", stored), (error: unknown) => {
      assert.ok(error instanceof TypeError);
      assert.match(error.message, /^Stored password hash is malformed: /);
      assert.match(error.message, reason);
      assert.ok(stored.length < 8 || !error.message.includes(stored), "the value is not repeated");
      return true;
    });
  });
}

test("timingSafeEqual() compares bytes, and arrays of unequal length are unequal", () => {
  const bytes = (...values: number[]) => new Uint8Array(values);
  assert.equal(timingSafeEqual(bytes(), bytes()), true);
  assert.equal(timingSafeEqual(bytes(1, 2, 3), bytes(1, 2, 3)), true);
  assert.equal(timingSafeEqual(bytes(1, 2, 3), bytes(1, 2, 4)), false);
  assert.equal(timingSafeEqual(bytes(0, 2, 3), bytes(1, 2, 3)), false);
  assert.equal(timingSafeEqual(bytes(1, 2, 3), bytes(1, 2)), false);
  assert.equal(timingSafeEqual(bytes(1, 2), bytes(1, 2, 3)), false);
  assert.equal(timingSafeEqual(bytes(), bytes(0)), false);
});

// --- tokens ---

test("hashToken() gives sha256$ and the hex SHA-256 of the token", async () => {
  // SHA-256("abc"), FIPS 180-2 appendix B.1.
  assert.equal(
    await hashToken("abc"),
    "sha256$ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  await assert.rejects(hashToken(""), TypeError);
});

// --- users file ---

test("parseUsersConfig() accepts the documented example, as text or as a value", () => {
  const value = {
    users: [
      {
        user: "alice",
        password: HASH,
        permissions: {
          publish: { allow: ["sensors/#"] },
          subscribe: { allow: ["alerts/#"], deny: ["alerts/internal/#"] },
        },
      },
      { token: TOKEN_HASH, user: "ingest-bot", permissions: { publish: { allow: ["#"] } } },
    ],
    default_permissions: { subscribe: { allow: ["public/#"] } },
  };
  assert.deepEqual(parseUsersConfig(value), value);
  assert.deepEqual(parseUsersConfig(JSON.stringify(value)), value);
  assert.deepEqual(parseUsersConfig({ users: [] }), { users: [] });
});

test("parseUsersConfig() accepts the example file of docs/AUTH.md", () => {
  const doc = readFileSync("docs/AUTH.md", "utf8");
  const example = /```json\n([\s\S]*?)```/.exec(doc);
  assert.ok(example !== null, "docs/AUTH.md has a json block");
  const config = parseUsersConfig(example[1]);
  assert.deepEqual(config.users.map((u) => u.user), ["alice", "ingest-bot", "dashboard"]);
});

test("parseUsersConfig() returns a copy that later changes to the input do not reach", () => {
  const value = { users: [{ user: "alice", password: HASH }] };
  const config = parseUsersConfig(value);
  value.users[0].user = "mallory";
  assert.equal(config.users[0].user, "alice");
});

test("parseUsersConfig() throws a SyntaxError for text that is not JSON", () => {
  assert.throws(() => parseUsersConfig("{users: []}"), (error: unknown) => {
    assert.ok(error instanceof SyntaxError);
    assert.match(error.message, /^Users file is not valid JSON: /);
    return true;
  });
});

const user = (fields: Record<string, unknown>) => ({ users: [fields] });
const alice = { user: "alice", password: HASH };

const BAD_CONFIGS: [config: unknown, message: string][] = [
  [[], "users file: must be an object, got array"],
  [null, "users file: must be an object, got null"],
  [{}, 'users file: missing field "users"'],
  [{ users: {} }, "users: must be an array, got object"],
  [
    { users: [], extra: 1 },
    'users file: unknown field "extra" (expected "users", "default_permissions")',
  ],
  [{ users: ["alice"] }, "users[0]: must be an object, got string"],
  [user({ password: HASH }), "users[0].user: must be a non-empty string, missing"],
  [user({ user: "", password: HASH }), "users[0].user: must be a non-empty string, got string"],
  [user({ user: 7, password: HASH }), "users[0].user: must be a non-empty string, got number"],
  [
    user({ user: "alice", pass: "x" }),
    'users[0]: unknown field "pass" (expected "user", "password", "token", "permissions")',
  ],
  [user({ user: "alice" }), 'users[0]: must have exactly one of "password" and "token"'],
  [
    user({ user: "alice", password: HASH, token: TOKEN_HASH }),
    'users[0]: must have exactly one of "password" and "token"',
  ],
  [
    { users: [alice, alice, { user: "bob", password: "hunter2" }] },
    'users[1].user: "alice" is already used by users[0]',
  ],
  [
    { users: [alice, { user: "bob", password: HASH }, { user: "carol", password: "hunter2" }] },
    'users[2].password: must be a "pbkdf2-sha256$..." string',
  ],
  [
    user({ user: "alice", password: 42 }),
    'users[0].password: must be a "pbkdf2-sha256$..." string',
  ],
  [
    user({ user: "bot", token: "sha256$" + "A".repeat(64) }),
    'users[0].token: must be a "sha256$<64 lowercase hex>" string',
  ],
  [
    user({ user: "bot", token: "0".repeat(64) }),
    'users[0].token: must be a "sha256$<64 lowercase hex>" string',
  ],
  [
    user({ user: "bot", token: "sha256$" + "0".repeat(63) }),
    'users[0].token: must be a "sha256$<64 lowercase hex>" string',
  ],
  [
    { users: [{ user: "a", token: TOKEN_HASH }, { user: "b", token: TOKEN_HASH }] },
    "users[1].token: same token as users[0]",
  ],
  [
    user({ ...alice, permissions: [] }),
    "users[0].permissions: must be an object, got array",
  ],
  [
    user({ ...alice, permissions: { publish: { allow: ["a"] }, admin: true } }),
    'users[0].permissions: unknown field "admin" (expected "publish", "subscribe")',
  ],
  [
    user({ ...alice, permissions: { subscribe: { allow: "a/#" } } }),
    "users[0].permissions.subscribe.allow: must be an array of patterns, got string",
  ],
  [
    user({ ...alice, permissions: { subscribe: { allow: ["a/#"], deny: ["b", "a/#/c"] } } }),
    'users[0].permissions.subscribe.deny[1]: "a/#/c" is not a valid pattern: ' +
    "'#' may only stand as the last level",
  ],
  [
    user({ ...alice, permissions: { publish: { allow: [""] } } }),
    "users[0].permissions.publish.allow[0]: pattern must not be empty",
  ],
  [
    user({ ...alice, permissions: { publish: { allow: [null] } } }),
    "users[0].permissions.publish.allow[0]: must be a pattern string, got null",
  ],
  [
    user({ ...alice, permissions: { publish: { allow: ["a"], only: ["b"] } } }),
    'users[0].permissions.publish: unknown field "only" (expected "allow", "deny")',
  ],
  [
    { users: [], default_permissions: { publish: { deny: ["x+"] } } },
    'default_permissions.publish.deny[0]: "x+" is not a valid pattern: ' +
    'Wildcards must fill a whole level, got "x+"',
  ],
];

for (const [config, message] of BAD_CONFIGS) {
  test(`parseUsersConfig() rejects a bad field with '${message}'`, () => {
    assert.throws(() => parseUsersConfig(config), (error: unknown) => {
      assert.ok(error instanceof TypeError);
      assert.equal(error.message, message);
      assert.ok(!error.message.includes("hunter2"), "a password is never repeated");
      return true;
    });
  });
}

// --- authenticator ---

const TOKEN = "tok-3f9a0c5d1e7b4a2f8c6d0e1f2a3b4c5d";

async function makeAuthenticator(): Promise<Authenticator> {
  return new Authenticator({
    users: [
      {
        user: "alice",
        password: await hashPassword("alice-pw", FAST),
        permissions: { publish: { allow: ["sensors/#"] }, subscribe: { deny: ["alerts/#"] } },
      },
      { user: "bob", password: await hashPassword("bob-pw", FAST) },
      { user: "ingest-bot", token: await hashToken(TOKEN) },
    ],
    default_permissions: { publish: { allow: ["bob/#"] } },
  });
}

test("Authenticator accepts a user with the right password and gives their permissions", async () => {
  const auth = await makeAuthenticator();
  const result = await auth.authenticate({ user: "alice", pass: "alice-pw" });
  assert.equal(result?.user, "alice");
  assert.equal(result?.permissions.canPublish("sensors/a"), true);
  assert.equal(result?.permissions.canSubscribe("alerts/#"), false);
});

test("Authenticator gives default_permissions to users without their own", async () => {
  const auth = await makeAuthenticator();
  const bob = await auth.authenticate({ user: "bob", pass: "bob-pw" });
  assert.equal(bob?.permissions.canPublish("bob/x"), true);
  assert.equal(bob?.permissions.canPublish("sensors/a"), false);
  const bot = await auth.authenticate({ token: TOKEN });
  assert.equal(bot?.user, "ingest-bot");
  assert.equal(bot?.permissions, bob?.permissions, "one compiled set is shared");
});

test("Authenticator gives users without permissions everything when there are no defaults", async () => {
  const auth = new Authenticator({ users: [{ user: "root", token: await hashToken(TOKEN) }] });
  const root = await auth.authenticate({ token: TOKEN });
  assert.equal(root?.permissions.canPublish("anything"), true);
  assert.equal(root?.permissions.canSubscribe("#"), true);
});

test("Authenticator accepts a known token and refuses others", async () => {
  const auth = await makeAuthenticator();
  assert.equal((await auth.authenticate({ token: TOKEN }))?.user, "ingest-bot");
  assert.equal(await auth.authenticate({ token: TOKEN + "x" }), null);
  assert.equal(await auth.authenticate({ token: TOKEN.toUpperCase() }), null);
  assert.equal(await auth.authenticate({ token: "" }), null);
});

test("Authenticator returns null for wrong or missing credentials", async () => {
  const auth = await makeAuthenticator();
  const failures: Record<string, unknown>[] = [
    { user: "alice", pass: "bob-pw" },
    { user: "alice", pass: "" },
    { user: "alice" },
    { pass: "alice-pw" },
    { user: "mallory", pass: "alice-pw" },
    { user: "ingest-bot", pass: TOKEN },
    {},
    { user: "alice", pass: "alice-pw", token: TOKEN },
    { user: "ingest-bot", token: TOKEN },
    { user: "alice", pass: 1 },
    { token: 7 },
  ];
  for (const credentials of failures) {
    assert.equal(await auth.authenticate(credentials), null, JSON.stringify(credentials));
  }
});

test("Authenticator spends a PBKDF2 run on an unknown user as on a known one", async () => {
  const auth = new Authenticator({
    users: [{ user: "alice", password: await hashPassword("pw", FAST) }],
  });
  const iterations = await recordPbkdf2(async () => {
    assert.equal(await auth.authenticate({ user: "mallory", pass: "pw" }), null);
    assert.equal(await auth.authenticate({ user: "alice", pass: "nope" }), null);
  });
  assert.deepEqual(iterations, [1000, 1000]);
});

test("Authenticator spends the most iterations of any user on every password check", async () => {
  // With users hashed at different counts, an unknown user and each known
  // one must cost the same, or timing tells who exists (and who is who).
  const auth = new Authenticator({
    users: [
      { user: "alice", password: await hashPassword("pw", FAST) },
      { user: "bob", password: await hashPassword("pw", { iterations: 3000 }) },
    ],
  });
  const perCheck: number[] = [];
  for (
    const credentials of [
      { user: "mallory", pass: "pw" },
      { user: "alice", pass: "nope" },
      { user: "alice", pass: "pw" },
      { user: "bob", pass: "nope" },
      { user: "bob", pass: "pw" },
    ]
  ) {
    const iterations = await recordPbkdf2(() => auth.authenticate(credentials).then(() => {}));
    perCheck.push(iterations.reduce((sum, n) => sum + n, 0));
  }
  assert.deepEqual(perCheck, [3000, 3000, 3000, 3000, 3000]);
  assert.equal((await auth.authenticate({ user: "alice", pass: "pw" }))?.user, "alice");
  assert.equal((await auth.authenticate({ user: "bob", pass: "pw" }))?.user, "bob");
});

test("Authenticator without password users refuses user and pass without a PBKDF2 run", async () => {
  const auth = new Authenticator({ users: [{ user: "bot", token: await hashToken(TOKEN) }] });
  const iterations = await recordPbkdf2(async () => {
    assert.equal(await auth.authenticate({ user: "bot", pass: TOKEN }), null);
  });
  assert.deepEqual(iterations, []);
});

test("Authenticator validates its configuration like parseUsersConfig()", () => {
  assert.throws(
    () => new Authenticator({ users: [{ user: "alice", password: "hunter2" }] }),
    { name: "TypeError", message: 'users[0].password: must be a "pbkdf2-sha256$..." string' },
  );
});
