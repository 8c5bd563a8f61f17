// Sign-in and consent pages: plain HTML forms a test can post to or a browser can fill in.
import { errors } from 'oidc-provider';

import { authenticate } from './accounts.mjs';

const ROUTE = /^\/interaction\/([\w-]+)(?:\/(login|confirm|abort))?$/;
const MAX_FORM_BYTES = 16 * 1024;

function escape(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>${escape(title)}</title></head>
<body>
<main>
<h1>${escape(title)}</h1>
${body}
</main>
</body>
</html>`;
}

function loginPage(uid, client, { username = '', error = '' } = {}) {
  const name = client?.clientName || client?.clientId;
  return page('Sign in', `<p>to continue to <strong>${escape(name)}</strong></p>
${error ? `<p role="alert" id="error">${escape(error)}</p>` : ''}
<form id="login" method="post" action="/interaction/${escape(uid)}/login" autocomplete="off">
  <label>Username <input name="username" id="username" value="${escape(username)}" required autofocus></label>
  <label>Password <input name="password" id="password" type="password" required></label>
  <button type="submit" id="sign-in">Sign in</button>
</form>`);
}

function consentPage(uid, client, scopes) {
  const name = client?.clientName || client?.clientId;
  const items = scopes.map((scope) => `<li>${escape(scope)}</li>`).join('\n  ');
  return page('Allow access?', `<p><strong>${escape(name)}</strong> asks for:</p>
<ul id="scopes">
  ${items || '<li>the access you granted before</li>'}
</ul>
<form id="consent" method="post" action="/interaction/${escape(uid)}/confirm">
  <button type="submit" id="allow">Allow</button>
</form>
<form id="deny" method="post" action="/interaction/${escape(uid)}/abort">
  <button type="submit" id="deny-button">Deny</button>
</form>`);
}

async function readForm(ctx) {
  if (!ctx.request.length && !ctx.get('Transfer-Encoding')) return new URLSearchParams();
  if (!ctx.is('application/x-www-form-urlencoded')) ctx.throw(415, 'send a form');
  const chunks = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) ctx.throw(413, 'form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function finish(ctx, provider, result, mergeWithLastSubmission) {
  const location = await provider.interactionResult(ctx.req, ctx.res, result, {
    mergeWithLastSubmission,
  });
  ctx.status = 303;
  ctx.redirect(location);
}

async function show(ctx, provider, details) {
  const client = await provider.Client.find(details.params.client_id);
  ctx.type = 'html';
  if (details.prompt.name === 'login') {
    ctx.body = loginPage(details.uid, client);
  } else if (details.prompt.name === 'consent') {
    const { missingOIDCScope = [] } = details.prompt.details;
    ctx.body = consentPage(details.uid, client, missingOIDCScope.filter((s) => s !== 'openid'));
  } else {
    ctx.throw(501, `no page for the ${details.prompt.name} prompt`);
  }
}

async function login(ctx, provider, details, form) {
  if (details.prompt.name !== 'login') ctx.throw(400, 'this sign-in is past the login step');
  const username = form.get('username') ?? '';
  const accountId = authenticate(username, form.get('password') ?? '');
  if (!accountId) {
    const client = await provider.Client.find(details.params.client_id);
    ctx.status = 401;
    ctx.type = 'html';
    ctx.body = loginPage(details.uid, client, { username, error: 'Wrong username or password.' });
    return;
  }
  await finish(ctx, provider, { login: { accountId } }, false);
}

async function confirm(ctx, provider, details) {
  if (details.prompt.name !== 'consent') ctx.throw(400, 'this sign-in is not asking for consent');
  const { prompt: { details: missing }, params, session } = details;
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  const grantId = await grant.save();
  await finish(ctx, provider, { consent: details.grantId ? {} : { grantId } }, true);
}

async function abort(ctx, provider) {
  const result = { error: 'access_denied', error_description: 'End-User denied the request' };
  await finish(ctx, provider, result, false);
}

const ACTIONS = { login, confirm, abort };

// Koa middleware serving /interaction/:uid and its three form posts; passes anything else on.
export default function interactions(provider) {
  return async function interactionRoutes(ctx, next) {
    const match = ROUTE.exec(ctx.path);
    if (!match) return next();
    const [, uid, action] = match;
    ctx.set('Cache-Control', 'no-store');
    try {
      const details = await provider.interactionDetails(ctx.req, ctx.res);
      if (details.uid !== uid) ctx.throw(400, 'this sign-in belongs to another page');
      if (!action && ctx.method === 'GET') return await show(ctx, provider, details);
      if (action && ctx.method === 'POST') {
        return await ACTIONS[action](ctx, provider, details, await readForm(ctx));
      }
      ctx.throw(405, 'method not allowed');
    } catch (err) {
      if (!(err instanceof errors.SessionNotFound)) throw err;
      ctx.status = 400;
      ctx.type = 'html';
      ctx.body = page('Sign-in expired', '<p>Start again from the application.</p>');
    }
    return undefined;
  };
}
