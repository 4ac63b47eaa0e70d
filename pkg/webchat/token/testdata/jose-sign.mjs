// Signs WebChat user tokens with the npm package jose, as a customer's Node backend would,
// for pkg/webchat/token's TestJoseTokens. The keys come on standard input (never argv):
//
//   {"now": <unix seconds>,
//    "current": {"kid": "...", "secret": "<base64url>"},
//    "previous": {"kid": "...", "secret": "<base64url>"}}
//
// and the tokens go to standard output as one JSON object, {name: token}. Exits 3 when jose
// is not installed (npm ci at the repository root installs it).
let jose;
try {
  jose = await import('jose');
} catch (err) {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write('the npm package jose is not installed (run npm ci at the repository root)\n');
    process.exit(3);
  }
  throw err;
}

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const input = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const now = input.now;
const current = { kid: input.current.kid, secret: Buffer.from(input.current.secret, 'base64url') };
const previous = { kid: input.previous.kid, secret: Buffer.from(input.previous.secret, 'base64url') };

function sign(key, header, fields = {}) {
  const jwt = new jose.SignJWT({ name: 'Ada Lovelace', email: 'ada@example.com', ...fields.extra })
    .setProtectedHeader(header)
    .setSubject(fields.sub ?? 'user-42')
    .setIssuedAt(now)
    .setExpirationTime(fields.exp ?? now + 600);
  if (fields.nbf !== undefined) jwt.setNotBefore(fields.nbf);
  return jwt.sign(key.secret);
}

const tokens = {
  kid: await sign(current, { alg: 'HS256', kid: current.kid, typ: 'JWT' }),
  no_kid: await sign(current, { alg: 'HS256' }),
  previous_kid: await sign(previous, { alg: 'HS256', kid: previous.kid }),
  previous_no_kid: await sign(previous, { alg: 'HS256' }),
  expired: await sign(current, { alg: 'HS256', kid: current.kid }, { exp: now - 120 }),
  nbf_future: await sign(current, { alg: 'HS256', kid: current.kid }, { nbf: now + 600, exp: now + 1200 }),
  nbf_past: await sign(current, { alg: 'HS256', kid: current.kid }, { nbf: now - 10 }),
  hs512: await sign(current, { alg: 'HS512', kid: current.kid }),
  wrong_kid: await sign(previous, { alg: 'HS256', kid: current.kid }),
  unicode: await sign(current, { alg: 'HS256', kid: current.kid }, { sub: 'usér-😀', extra: { name: 'Zoë \u2028 "quoted"' } }),
};
process.stdout.write(JSON.stringify(tokens));
