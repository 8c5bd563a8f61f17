// A protected resource on the provider's origin: GET /resource/userProfile.
//
// It checks tokens the way an RFC 9449 resource server does: the access token is looked up
// in the provider's own store (as its userinfo and introspection endpoints do), a DPoP-bound
// token needs the DPoP scheme and a fresh proof for this request (typ, algorithm, signature by
// the embedded key, htm, htu, iat, unique jti, ath, the key's thumbprint equal to the token's
// jkt), and, with nonces on, a nonce from the provider's own nonce scheme.
import { createHash } from 'node:crypto';

import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify } from 'jose';
// oidc-provider's own server-nonce scheme (HMAC of a 60 s time step), so that one nonce
// serves both the token endpoint and this resource on the same origin.
import DPoPNonces from 'oidc-provider/lib/helpers/dpop_nonces.js';

import { profileOf } from './accounts.mjs';

export const RESOURCE_PATH = '/resource/userProfile';
const REQUIRED_SCOPE = 'query_userinfo';
const PROOF_WINDOW = 300; // seconds a proof without a nonce stays acceptable, as oidc-provider

class Refusal extends Error {
  constructor(status, scheme, error, description, nonce) {
    super(description);
    Object.assign(this, { status, scheme, error, nonce });
  }
}

function sha256(value) {
  return createHash('sha256').update(value).digest('base64url');
}

function parseAuthorization(header) {
  const parts = (header || '').split(' ');
  if (parts.length !== 2 || !parts[1]) return {};
  return { scheme: parts[0].toLowerCase(), token: parts[1] };
}

// Return a function that validates a request's DPoP proof and returns the key's thumbprint.
function proofChecker({ issuer, algorithms, nonceSecret }) {
  const nonces = nonceSecret ? new DPoPNonces(nonceSecret) : undefined;
  const seen = new Map(); // jti -> expiry, the replay check
  const invalid = (description) => new Refusal(401, 'DPoP', 'invalid_dpop_proof', description);

  return async function checkProof(ctx, accessToken) {
    const proof = ctx.get('DPoP');
    if (!proof) throw new Refusal(401, 'DPoP', 'invalid_token', 'a DPoP-bound token needs a proof');
    let header;
    let claims;
    try {
      ({ protectedHeader: header, payload: claims } = await jwtVerify(proof, EmbeddedJWK, {
        typ: 'dpop+jwt',
        algorithms,
      }));
    } catch (err) {
      throw invalid(`invalid DPoP proof: ${err.message}`);
    }
    const now = Math.floor(Date.now() / 1000);
    if (typeof claims.jti !== 'string' || !claims.jti) throw invalid('the proof has no jti');
    if (typeof claims.iat !== 'number') throw invalid('the proof has no iat');
    if (claims.htm !== ctx.method) throw invalid('the proof is for another method');
    let htu;
    try {
      htu = new URL(claims.htu);
      htu.search = '';
      htu.hash = '';
    } catch {
      throw invalid('the proof has no valid htu');
    }
    if (htu.href !== new URL(ctx.path, issuer).href) throw invalid('the proof is for another URL');
    if (claims.ath !== sha256(accessToken)) throw invalid('the proof is for another token');
    if (nonces) {
      if (typeof claims.nonce !== 'string' || !nonces.checkNonce(claims.nonce)) {
        throw new Refusal(401, 'DPoP', 'use_dpop_nonce', 'use the server nonce', nonces.nextNonce());
      }
    } else if (Math.abs(now - claims.iat) > PROOF_WINDOW) {
      throw invalid('the proof is not recent enough');
    }
    for (const [jti, expiry] of seen) if (expiry < now) seen.delete(jti);
    if (seen.has(claims.jti)) throw invalid('the proof was used before');
    seen.set(claims.jti, now + PROOF_WINDOW);
    if (nonces && claims.nonce !== nonces.nextNonce()) ctx.set('DPoP-Nonce', nonces.nextNonce());
    return calculateJwkThumbprint(header.jwk, 'sha256');
  };
}

async function findToken(provider, value) {
  const token = await provider.AccessToken.find(value);
  if (!token || !token.isValid) {
    throw new Refusal(401, undefined, 'invalid_token', 'the access token is unknown or expired');
  }
  const grant = await provider.Grant.find(token.grantId);
  if (!grant || grant.clientId !== token.clientId || grant.accountId !== token.accountId) {
    throw new Refusal(401, undefined, 'invalid_token', 'the grant behind the token has ended');
  }
  return token;
}

function refuse(ctx, refusal, algorithms) {
  const scheme = refusal.scheme ?? 'Bearer';
  const params = [`error="${refusal.error}"`, `error_description="${refusal.message}"`];
  if (scheme === 'DPoP') params.push(`algs="${algorithms.join(' ')}"`);
  if (refusal.error === 'insufficient_scope') params.push(`scope="${REQUIRED_SCOPE}"`);
  ctx.set('WWW-Authenticate', `${scheme} ${params.join(', ')}`);
  if (refusal.nonce) ctx.set('DPoP-Nonce', refusal.nonce);
  ctx.status = refusal.status;
  ctx.body = { error: refusal.error, error_description: refusal.message };
}

// Koa middleware answering GET /resource/userProfile; passes anything else on.
export default function resource(provider, options) {
  const checkProof = proofChecker(options);
  return async function resourceRoute(ctx, next) {
    if (ctx.path !== RESOURCE_PATH) return next();
    ctx.set('Cache-Control', 'no-store');
    if (ctx.method !== 'GET') ctx.throw(405, 'method not allowed');
    try {
      const { scheme, token: value } = parseAuthorization(ctx.get('Authorization'));
      if (scheme !== 'bearer' && scheme !== 'dpop') {
        throw new Refusal(401, 'DPoP', 'invalid_request', 'send an access token');
      }
      const token = await findToken(provider, value);
      if (token.jkt && scheme !== 'dpop') {
        throw new Refusal(401, 'DPoP', 'invalid_token', 'a DPoP-bound token needs the DPoP scheme');
      }
      if (!token.jkt && scheme === 'dpop') {
        throw new Refusal(401, 'Bearer', 'invalid_token', 'the token is not DPoP-bound');
      }
      if (token.jkt && (await checkProof(ctx, value)) !== token.jkt) {
        throw new Refusal(401, 'DPoP', 'invalid_token', 'the proof is signed by another key');
      }
      if (!token.scopes.has(REQUIRED_SCOPE)) {
        throw new Refusal(403, token.jkt ? 'DPoP' : 'Bearer', 'insufficient_scope', 'scope missing');
      }
      ctx.body = profileOf(token.accountId);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      refuse(ctx, err, options.algorithms);
    }
    return undefined;
  };
}
