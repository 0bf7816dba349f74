// A real OpenID provider for gate's tests: panva's oidc-provider (pinned in
// package.json / package-lock.json, installed by scripts/install-deps),
// served over TLS on 127.0.0.1 with the keys, clients and accounts the test
// gives it. Its development login form accepts any login and password; the
// account's claims come from the test's table (unknown logins get only sub).
//
//   node idp.mjs CONFIG.json      prints "ready <issuer>" once listening
//
// CONFIG: {"port", "issuer", "cert", "key" (PEM paths), "jwks" ({keys: [...]}
// private JWKs, the first of each alg signs), "clients" (oidc-provider client
// metadata), "accounts" ({login: {claims}})}.
import fs from 'node:fs';
import https from 'node:https';

import Provider from 'oidc-provider';

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));

const provider = new Provider(config.issuer, {
  clients: config.clients,
  jwks: config.jwks,
  // Claims go into the ID token itself (gate reads no userinfo).
  conformIdTokenClaims: false,
  claims: {
    openid: ['sub'],
    email: ['email'],
    profile: ['preferred_username'],
    groups: ['groups'],
    logins: ['unix_logins'],
  },
  scopes: ['openid', 'email', 'profile', 'groups', 'logins'],
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['gate-test-idp-cookie-key'] },
  async findAccount(ctx, id) {
    const claims = (config.accounts || {})[id] || {};
    return { accountId: id, async claims() { return { sub: id, ...claims }; } };
  },
});
provider.on('server_error', (ctx, err) => console.error('idp server_error', err));

const server = https.createServer({
  key: fs.readFileSync(config.key),
  cert: fs.readFileSync(config.cert),
}, provider.callback());
server.listen(config.port, '127.0.0.1', () => {
  console.log(`ready ${config.issuer}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
