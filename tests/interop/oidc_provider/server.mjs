// A certified OpenID provider (panva's oidc-provider) for the interoperability tests.
//
// Environment:
//   PORT                  port on 127.0.0.1; the issuer is http://127.0.0.1:PORT (required)
//   OP_CLIENTS_FILE       JSON array of client metadata, as oidc-provider's `clients` (required)
//   OP_ACCESS_TOKEN_TTL   access token lifetime in seconds (default 60)
//   OP_DPOP_NONCE=1       require server-provided DPoP nonces (RFC 9449 §8 and §9)
//   OP_REQUIRE_PAR=1      require pushed authorization requests of every client (RFC 9126)
//   OP_FAPI=1             the FAPI 2.0 Security Profile: oidc-provider's own FAPI 2.0 behaviours,
//                         PAR required, private_key_jwt clients alone (others are not registered),
//                         and PS256, ES256 or EdDSA for every JWT
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

import { CLAIMS, findAccount } from './accounts.mjs';
import interactions from './interactions.mjs';
import resource from './resource.mjs';

function setting(name, fallback) {
  const value = process.env[name] ?? fallback;
  if (value === undefined || value === '') throw new Error(`set ${name}`);
  return value;
}

function positiveInteger(name, fallback) {
  const value = Number(setting(name, fallback));
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a whole number > 0`);
  return value;
}

async function signingKeys() {
  const keys = [];
  for (const [alg, kid] of [['RS256', 'rs256-1'], ['ES256', 'es256-1']]) {
    const { privateKey } = await generateKeyPair(alg, { extractable: true });
    keys.push({ ...(await exportJWK(privateKey)), kid, alg, use: 'sig' });
  }
  return { keys };
}

const PORT = positiveInteger('PORT');
const ISSUER = `http://127.0.0.1:${PORT}`;
const fapi = process.env.OP_FAPI === '1';
const registered = JSON.parse(readFileSync(setting('OP_CLIENTS_FILE'), 'utf8'));
// A FAPI 2.0 server authenticates clients with private_key_jwt or MTLS, never a secret.
const clients = fapi
  ? registered.filter((client) => client.token_endpoint_auth_method === 'private_key_jwt')
  : registered;
const accessTokenTTL = positiveInteger('OP_ACCESS_TOKEN_TTL', '60');
const nonceSecret = process.env.OP_DPOP_NONCE === '1' ? randomBytes(32) : undefined;
const requirePAR = fapi || process.env.OP_REQUIRE_PAR === '1';
const fapiAlgorithms = ['PS256', 'ES256', 'EdDSA']; // its "Cryptography and secrets" section
const dPoPAlgorithms = fapi ? fapiAlgorithms : ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA'];
const clientAuthAlgorithms = fapi ? fapiAlgorithms : ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'];

const provider = new Provider(ISSUER, {
  clients,
  clientDefaults: {
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'private_key_jwt',
    ...(fapi ? { id_token_signed_response_alg: 'ES256' } : {}),
  },
  jwks: await signingKeys(),
  cookies: {
    keys: [randomBytes(32).toString('base64url')],
    // Lax, as oidc-provider 9 has by default: browsers drop SameSite=None cookies that are not
    // Secure, as none can be on plain http, and Lax spares version 8's fallback second cookie.
    long: { signed: true, sameSite: 'lax' },
    short: { signed: true, sameSite: 'lax' },
  },
  findAccount,
  claims: CLAIMS,
  scopes: ['openid', 'offline_access', 'query_userinfo', 'manage_flightreports', 'query_mapdata'],
  features: {
    // OpenID Connect Back-Channel Logout 1.0: a client that registers backchannel_logout_uri
    // is sent a logout token whenever a session it signed in through ends here.
    backchannelLogout: { enabled: true },
    devInteractions: { enabled: false },
    // FAPI 2.0 (Implementer's Draft 02 in oidc-provider 8.x): PKCE required, no access tokens
    // in query strings, Request Object rules; the rest is the configuration around it.
    fapi: fapi ? { enabled: true, profile: '2.0' } : { enabled: false },
    dPoP: {
      enabled: true,
      nonceSecret,
      requireNonce: () => nonceSecret !== undefined,
    },
    pushedAuthorizationRequests: {
      enabled: true,
      requirePushedAuthorizationRequests: requirePAR,
    },
    revocation: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    userinfo: { enabled: true },
  },
  responseTypes: ['code'],
  clientAuthMethods: fapi
    ? ['private_key_jwt']
    : ['private_key_jwt', 'client_secret_post', 'client_secret_basic', 'none'],
  enabledJWA: {
    dPoPSigningAlgValues: dPoPAlgorithms,
    clientAuthSigningAlgValues: clientAuthAlgorithms,
    ...(fapi ? { idTokenSigningAlgValues: fapiAlgorithms } : {}),
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  // Like the platform: every client allowed the refresh_token grant gets a refresh token, with
  // or without offline_access (which OpenID Connect only grants together with prompt=consent).
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: true,
  pkce: { methods: ['S256'], required: () => true },
  ttl: {
    AccessToken: accessTokenTTL,
    AuthorizationCode: 60,
    Grant: 24 * 60 * 60,
    IdToken: 60 * 60,
    Interaction: 10 * 60,
    RefreshToken: 24 * 60 * 60,
    Session: 24 * 60 * 60,
  },
});

provider.use(interactions(provider));
provider.use(resource(provider, { issuer: ISSUER, algorithms: dPoPAlgorithms, nonceSecret }));
provider.on('server_error', (ctx, err) => console.error('server_error', ctx.path, err));
// Say why each request was refused, with the detail the answer hides from the client (never a
// token: oidc-provider's details name the check that failed).
for (const event of ['authorization', 'backchannel', 'end_session', 'grant',
  'pushed_authorization_request', 'revocation', 'userinfo']) {
  provider.on(`${event}.error`, (ctx, err) => {
    const code = err.error ?? err.message; // a failed back-channel logout is a plain Error
    console.log(`${event}.error ${code}: ${err.error_description} (${err.error_detail ?? ''})`);
  });
}

provider.on('backchannel.success', (ctx, client) => {
  console.log(`backchannel.success ${client.clientId}`);
});

provider.listen(PORT, '127.0.0.1', () => {
  console.log(`oidc-provider listening, issuer ${ISSUER}`);
});
