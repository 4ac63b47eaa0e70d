// Verifies tokens minted by pkg/signer with the npm package jose, as the API Gateway JWT
// authorizer or a client would: discovery document at <issuer>/.well-known/openid-configuration,
// its jwks_uri fetched, RS256 only, issuer and audience checked. For pkg/signer's
// TestJoseVerifies. Input on standard input:
//
//   {"issuer": "...", "audience": "...", "now": <unix seconds>, "tokens": {name: token}}
//
// Output on standard output, one JSON object: {name: {"ok": true, "kid": ..., "payload": {...}}
// or {"ok": false, "code": <jose error code>}}. Exits 3 when jose is not installed (npm ci at
// the repository root installs it).
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

const res = await fetch(input.issuer + '/.well-known/openid-configuration');
if (!res.ok) throw new Error('discovery document: HTTP ' + res.status);
const discovery = await res.json();
if (discovery.issuer !== input.issuer) throw new Error('discovery issuer ' + discovery.issuer + ' is not ' + input.issuer);
if (!discovery.id_token_signing_alg_values_supported.includes('RS256')) throw new Error('RS256 is not listed');
const jwks = jose.createRemoteJWKSet(new URL(discovery.jwks_uri));

const out = {};
for (const [name, token] of Object.entries(input.tokens)) {
  try {
    const { payload, protectedHeader } = await jose.jwtVerify(token, jwks, {
      issuer: input.issuer,
      audience: input.audience,
      algorithms: ['RS256'],
      requiredClaims: ['sub', 'exp', 'iat', 'org_id', 'role', 'sid'],
      currentDate: new Date(input.now * 1000),
    });
    out[name] = { ok: true, kid: protectedHeader.kid, payload };
  } catch (err) {
    out[name] = { ok: false, code: err.code ?? String(err) };
  }
}
process.stdout.write(JSON.stringify(out));
